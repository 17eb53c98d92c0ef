package dev.switchboard.r2dbc;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * Finds the connection of a transaction that a transaction manager outside Switchboard (Spring's
 * {@code R2dbcTransactionManager}) bound to a {@link RoutingConnectionFactory} in the Reactor
 * Context, so that the factory hands that connection to every request made inside the transaction.
 *
 * <p>Without it, a connection requested inside such a transaction through the factory itself
 * (jOOQ over {@link RoutingConnectionFactory#forIntent}, plain R2DBC) would be a new one, in
 * autocommit: its writes would stay when the transaction rolls back (jOOQ issues 16109, 17598).
 * The Spring Boot starter supplies Spring's. Implementations are called on the routing path:
 * they read the context and take no lock.
 *
 * <p>A pipeline can outlive its transaction: a cancel makes the manager roll back and unbind the
 * connection while the work goes on (Reactor subscribes the next step of a chain while the cancel
 * travels; jOOQ runs a query whose subscription was cancelled). What such work submits after the
 * end must not run on a fresh connection in autocommit, where it would commit a part of a
 * rolled-back transaction on its own: {@link #hasEnded} tells the factory to refuse it.
 */
@FunctionalInterface
public interface BoundTransactions {

	/**
	 * Find the connection of the running transaction bound to {@code factory}.
	 * @param context the requesting subscriber's context
	 * @param factory the routing factory, the key under which the transaction is bound
	 * @return the transaction's connection, or {@code null} outside such a transaction
	 */
	@Nullable Connection find(ContextView context, ConnectionFactory factory);

	/**
	 * Tell whether the pipeline ran inside a transaction bound to {@code factory} that has ended
	 * (committed, rolled back, cancelled), and runs in no other: the factory then refuses its
	 * requests with {@link dev.switchboard.api.DataError#transactionEnded}. Called only where
	 * {@link #find} found no connection and the pipeline begins no transaction of its own.
	 * Outside any transaction it must answer without allocating: it is on the routing path.
	 * @param context the requesting subscriber's context
	 * @param factory the routing factory, the key under which the transaction was bound
	 * @return {@code true} if the pipeline's transaction has ended; {@code false} by default
	 */
	default boolean hasEnded(ContextView context, ConnectionFactory factory) {
		return false;
	}
}
