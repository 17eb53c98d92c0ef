package dev.switchboard.r2dbc;

import java.util.function.BiConsumer;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * The routing-conflict rule, in one place: inside a transaction of one tenant, work for another
 * tenant is refused with {@link DataError.Kind#ROUTING_CONFLICT}, and the transaction is marked
 * rollback-only with the conflict, so that it rolls back rather than commit half of its work
 * elsewhere, even when the work swallowed the error.
 *
 * <p>A transaction keeps the mark where it lives: on its {@link TransactionBinding} (Switchboard's
 * own transactions, checked when a connection is routed), or on its connection (a
 * {@link RoutedConnection}, checked for each statement run on it and for each request inside a
 * transaction that a manager outside Switchboard bound). Allocates nothing unless there is a
 * conflict.
 */
final class RoutingConflict {

	private RoutingConflict() {
	}

	/**
	 * Check work for {@code requested} inside a transaction of {@code tenant}.
	 * @param tenant the transaction's tenant
	 * @param dataSource the transaction's datasource
	 * @param requested the tenant the work is for, or {@code null} if it names none
	 * @param transaction where the transaction keeps its rollback-only mark
	 * @param markRollbackOnly marks it, given the conflict
	 * @param <T> the type of the holder of the mark
	 * @return the conflict, or {@code null} if the work names no other tenant
	 */
	static <T> @Nullable DataError check(TenantId tenant, DataSource dataSource, @Nullable TenantId requested,
			T transaction, BiConsumer<? super T, DataError> markRollbackOnly) {
		if (requested == null || tenant.equals(requested)) {
			return null;
		}
		DataError conflict = DataError.routingConflict(tenant, dataSource.name(), requested);
		markRollbackOnly.accept(transaction, conflict);
		return conflict;
	}

	/**
	 * Check a statement whose caller's context may name another tenant than its connection's: it
	 * would run in the wrong tenant's database, inside its transaction. A conflict is told to the
	 * routing listener.
	 * @param connection the connection the statement runs on
	 * @param caller the context of the statement's subscriber
	 * @return the conflict, or {@code null} if the caller names no other tenant
	 */
	static @Nullable DataError ofStatement(RoutedConnection connection, ContextView caller) {
		RoutingContext routing = RoutingContext.find(caller);
		return routing == null ? null : onConnection(connection, routing.tenant(), caller);
	}

	/**
	 * Check a request for {@code requested} on the connection of a transaction. A conflict is
	 * told to the routing listener.
	 * @param connection the transaction's connection, which keeps its rollback-only mark
	 * @param requested the tenant the caller asks for, or {@code null} if it names none
	 * @param caller the caller's context
	 * @return the conflict, or {@code null} if {@code requested} is the connection's tenant
	 */
	static @Nullable DataError onConnection(RoutedConnection connection, @Nullable TenantId requested,
			ContextView caller) {
		DataError conflict = check(connection.tenancy.tenant, connection.target.dataSource(), requested, connection,
				Drains::rollbackOnly);
		if (conflict != null) {
			connection.listener.failed(caller, conflict);
		}
		return conflict;
	}
}
