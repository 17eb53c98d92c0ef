package dev.switchboard.r2dbc;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * Where {@link RoutingConnectionFactory} joins the transactions that a transaction manager outside
 * Switchboard bound to it, found by its {@link BoundTransactions}: asked before the decision, it
 * hands out the transaction's connection, refuses what must not run, or lets routing go on.
 * Thread-safe; built once per factory that has {@code BoundTransactions}.
 */
final class BoundTransactionJoin {

	private final RoutingConnectionFactory routing;

	private final BoundTransactions bound;

	BoundTransactionJoin(RoutingConnectionFactory routing, BoundTransactions bound) {
		this.routing = routing;
		this.bound = bound;
	}

	/**
	 * Inside a transaction that a transaction manager outside Switchboard bound to the factory:
	 * hand out its connection if the tenant is the transaction's; refuse another tenant, and a
	 * transaction of its own (it would commit apart from the bound one), each with
	 * {@link DataError.Kind#ROUTING_CONFLICT}; refuse the work of such a transaction that has
	 * ended ({@link BoundTransactions#hasEnded}) with {@link DataError#transactionEnded}, rather
	 * than run it on a fresh connection in autocommit.
	 * @return {@code false} outside such a transaction: routing goes on
	 */
	boolean join(CoreSubscriber<? super Connection> actual, ContextView context, TenantId tenant,
			DataSource dataSource, boolean ownTransaction) {
		Connection joined;
		try {
			joined = this.bound.find(context, this.routing);
		}
		catch (RuntimeException failure) {
			this.routing.fail(actual, context, new DataError(DataError.Kind.PERMANENT,
					"the transaction bound to the routing factory has no usable connection: " + failure.getMessage(),
					tenant.value(), dataSource.name(), Role.PRIMARY, null, failure));
			return true;
		}
		if (joined == null) {
			if (!ownTransaction && this.bound.hasEnded(context, this.routing)) {
				// The work of a transaction that has ended: a fresh connection would run it in autocommit.
				this.routing.fail(actual, context, DataError.transactionEnded(tenant, dataSource.name(), Role.PRIMARY));
				return true;
			}
			return false;
		}
		if (joined instanceof RoutedConnection routed) {
			DataError conflict = RoutingConflict.onConnection(routed, tenant, context);
			if (conflict == null && ownTransaction) {
				conflict = DataError.nestedTransaction(routed.tenant(), routed.target().dataSource().name());
			}
			if (conflict != null) {
				this.routing.fail(actual, context, conflict);
				return true;
			}
			this.routing.listener().routed(context, tenant, routed.target(), RoutingListener.Reason.PRIMARY_TRANSACTION);
		}
		Mono.<Connection>just(new NonClosingConnection(joined)).subscribe(actual);
		return true;
	}
}
