package dev.switchboard.spring;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.NonClosingConnection;
import dev.switchboard.r2dbc.RoutedConnection;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.Wrapped;
import org.springframework.r2dbc.connection.ConnectionFactoryUtils;
import org.springframework.r2dbc.connection.ConnectionHolder;
import org.springframework.transaction.NoTransactionException;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.core.publisher.Mono;

/**
 * Lets jOOQ join a Spring reactive transaction ({@code TransactionalOperator},
 * {@code @Transactional}) that an {@code R2dbcTransactionManager} over the routing factory began:
 * inside one, it hands out the transaction's connection (whose close is left to the transaction);
 * outside, the view it decorates routes as usual.
 *
 * <p>A statement for another tenant inside the transaction fails with
 * {@link DataError.Kind#ROUTING_CONFLICT}, and the transaction rolls back.
 */
final class SpringTransactionConnectionFactory implements ConnectionFactory, Wrapped<ConnectionFactory> {

	private final ConnectionFactory view;

	private final RoutingConnectionFactory routing;

	private final Mono<Connection> create;

	SpringTransactionConnectionFactory(ConnectionFactory view, RoutingConnectionFactory routing) {
		this.view = view;
		this.routing = routing;
		this.create = TransactionSynchronizationManager.forCurrentTransaction()
				.flatMap(this::transactionConnection)
				.onErrorResume(NoTransactionException.class, none -> Mono.empty())
				.switchIfEmpty(Mono.defer(() -> Mono.from(this.view.create())));
	}

	private Mono<Connection> transactionConnection(TransactionSynchronizationManager synchronization) {
		if (!synchronization.isActualTransactionActive()) {
			return Mono.empty();
		}
		if (!(synchronization.getResource(this.routing) instanceof ConnectionHolder)) {
			return Mono.empty();
		}
		// Spring's own lookup returns the connection the transaction manager bound, as DatabaseClient gets it.
		return ConnectionFactoryUtils.getConnection(this.routing).flatMap(connection -> Mono.deferContextual(context -> {
			RoutingContext routing = RoutingContext.find(context);
			if (routing != null && routing.tenant() == null) {
				return Mono.error(RoutingContext.noTenantError(routing));
			}
			if (routing != null && connection instanceof RoutedConnection routed
					&& !routed.tenant().equals(routing.tenant())) {
				return Mono.error(conflict(routed.tenant(), routed.target().dataSource().name(), routing.tenant()));
			}
			return Mono.just(new NonClosingConnection(connection));
		}));
	}

	private static DataError conflict(TenantId transactionTenant, String dataSource, TenantId requested) {
		return DataError.routingConflict(transactionTenant, dataSource, requested);
	}

	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.view.getMetadata();
	}

	@Override
	public ConnectionFactory unwrap() {
		return this.view;
	}
}
