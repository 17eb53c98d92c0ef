package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The connection factory of the plain routed {@code DSLContext}: it hands out
 * {@link DeferredConnection}s, which route when jOOQ creates the statement and its intent is known.
 */
final class DeferredConnectionFactory implements ConnectionFactory {

	private final RoutingConnectionFactory routing;

	private final Mono<Connection> create;

	/**
	 * @param routing the routing factory
	 * @param fixedIntent the intent of every statement, or {@code null} to infer each one
	 */
	DeferredConnectionFactory(RoutingConnectionFactory routing, @Nullable AccessIntent fixedIntent) {
		this.routing = routing;
		ConnectionFactoryMetadata factoryMetadata = routing.getMetadata();
		ConnectionMetadata metadata = new ConnectionMetadata() {
			@Override
			public String getDatabaseProductName() {
				return factoryMetadata.getName();
			}

			@Override
			public String getDatabaseVersion() {
				return "unknown until routed";
			}
		};
		this.create = Mono.deferContextual(context -> {
			DeferredConnection connection = new DeferredConnection(routing, context, metadata, fixedIntent);
			// jOOQ cancels this subscription when its query is cancelled before it took the connection;
			// it may still run the query on it, and would then never close it: refuse it instead.
			return Mono.just(connection).doOnCancel(connection::abandon);
		});
	}

	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.routing.getMetadata();
	}
}
