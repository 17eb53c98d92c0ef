package dev.switchboard.spring;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.StringJoiner;

import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.springframework.core.Ordered;
import org.springframework.r2dbc.core.binding.BindMarkersFactory;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver.BindMarkerFactoryProvider;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver.NoBindMarkersFactoryException;
import reactor.core.publisher.Mono;

/**
 * Refuses to give a plain {@code DatabaseClient} one set of bind markers for a routing factory
 * whose engines bind differently, so that {@code DatabaseClient.create(routing)} fails when it is
 * built, saying what to do, instead of failing one engine's tenants on every statement.
 *
 * <p>Why: Spring's built-in provider matches the product name it finds inside the routing
 * factory's {@value RoutingConnectionFactory#MIXED_NAME} metadata, so over PostgreSQL and MariaDB
 * tenants it picked MariaDB's {@code ?} and PostgreSQL tenants failed with
 * {@code IndexOutOfBoundsException: Binding index 0} (issue 14). Registered in
 * {@code META-INF/spring.factories}, ahead of Spring's provider. Factories of one engine, and mixed
 * engines that bind alike (MySQL and MariaDB), are left to Spring. Stateless and thread-safe.
 */
final class MixedEngineBindMarkers implements BindMarkerFactoryProvider, Ordered {

	private static final String PREFIX = RoutingConnectionFactory.MIXED_NAME + " ";

	@Override
	public @Nullable BindMarkersFactory getBindMarkers(ConnectionFactory connectionFactory) {
		String name = connectionFactory.getMetadata().getName();
		if (!name.startsWith(PREFIX)) {
			return null;
		}
		Set<String> styles = new LinkedHashSet<>();
		StringJoiner engines = new StringJoiner(", ");
		for (String product : name.substring(PREFIX.length()).split(", ")) {
			String style = SwitchboardDatabaseClient.styleOf(BindMarkersFactoryResolver.resolve(new ProductOnly(product)));
			styles.add(style);
			engines.add(product + " binds " + style);
		}
		if (styles.size() > 1) {
			throw new NoBindMarkersFactoryException("The routing factory serves tenants on engines with different "
					+ "bind markers (" + engines + "), and a DatabaseClient built with one set fails the others' "
					+ "tenants. Use the "
					+ "DatabaseClient bean of switchboard-spring-boot-starter, or build one with "
					+ "SwitchboardDatabaseClient.create(routingConnectionFactory), which binds each tenant's "
					+ "statements with its engine's markers.");
		}
		return null;
	}

	/** Before Spring's built-in provider, which has no order. */
	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}

	/** Only the product name, for asking Spring which markers one engine uses. */
	private record ProductOnly(String product) implements ConnectionFactory {

		@Override
		public Publisher<? extends Connection> create() {
			return Mono.error(new UnsupportedOperationException("names a product only"));
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return () -> this.product;
		}
	}
}
