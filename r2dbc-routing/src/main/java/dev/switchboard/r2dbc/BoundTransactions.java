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
}
