package dev.switchboard.spring;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TransactionBinding;
import io.r2dbc.spi.Connection;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.core.publisher.Mono;

/**
 * Spring's {@link R2dbcTransactionManager} over a {@link RoutingConnectionFactory}, whose
 * transactions behave as Switchboard's own.
 *
 * <p>Each transaction takes a connection to the tenant's primary, whatever intent the Reactor
 * Context declares: a declared read cannot send a transaction to a replica, which would refuse
 * its writes (a read-only transaction, {@code @Transactional(readOnly = true)}, takes the primary
 * too). The connection is made for that one transaction: once it commits or rolls back, nothing
 * its work still submits runs on it (a cancelled {@code TransactionalOperator} rolls back all of
 * its work), and the commit or rollback waits for the statements already sent. Inside the
 * transaction, any connection requested from the routing factory (jOOQ, plain R2DBC) is the
 * transaction's own (see {@link SpringBoundTransactions}); a statement for another tenant fails
 * with {@code ROUTING_CONFLICT} and the transaction can only roll back. Once it ended, what its
 * work still requests fails with {@code DataError.transactionEnded}: the work of a cancelled
 * transaction never runs in autocommit on a connection of its own.
 *
 * <p>Spring's {@code TransactionalOperator} passes the work's elements on before the commit; a
 * caller that must see only committed results takes them after it ({@code .then(...)},
 * {@code .last()}), or uses {@code TenantDatabase.transactional}, which holds them back.
 * Thread-safe once built.
 */
public class SwitchboardTransactionManager extends R2dbcTransactionManager {

	private static final long serialVersionUID = 1L;

	/**
	 * Create a transaction manager over the routing factory, the key Spring binds each
	 * transaction's connection to, and so the factory {@code DatabaseClient} must use.
	 * @param routing the routing factory
	 */
	public SwitchboardTransactionManager(RoutingConnectionFactory routing) {
		super(routing);
	}

	/**
	 * Begin on a connection to the primary made for this one transaction; if the begin is
	 * cancelled once that connection was handed out (Spring's {@code doBegin} then releases
	 * nothing: the connection stayed acquired, on PostgreSQL idle in a transaction), roll it back
	 * and release it.
	 */
	@Override
	protected Mono<Void> doBegin(TransactionSynchronizationManager synchronizationManager, Object transaction,
			TransactionDefinition definition) {
		return Mono.defer(() -> {
			SpringBoundTransactions.clearEnded(synchronizationManager);
			BeginWatch watch = new BeginWatch();
			return super.doBegin(synchronizationManager, transaction, definition)
					.contextWrite(TransactionBinding.beginning(watch))
					// Also after a successful begin: a cancel that still reaches it here comes before
					// Spring's operator holds the transaction, which it then never ends (measured: a
					// 'begun' state that ignored such cancels left 2 of 8 connections in a transaction).
					.doOnCancel(watch::cancelled);
		});
	}

	/**
	 * Mark the transaction context as ended before Spring unbinds the connection: what the work
	 * still submits from now on fails with {@code DataError.transactionEnded} instead of taking a
	 * fresh connection in autocommit (see {@link SpringBoundTransactions#hasEnded}).
	 */
	@Override
	protected Mono<Void> doCleanupAfterCompletion(TransactionSynchronizationManager synchronizationManager,
			Object transaction) {
		SpringBoundTransactions.markEnded(synchronizationManager, obtainConnectionFactory());
		return super.doCleanupAfterCompletion(synchronizationManager, transaction);
	}

	/**
	 * The connection made for one begin, and whether the begin was cancelled: whichever of the
	 * two comes second releases the connection, so a cancel that overtakes the hand-out (the
	 * connection then reaches an operator that already dropped out) loses nothing.
	 */
	private static final class BeginWatch implements Consumer<Connection> {

		private static final Object CANCELLED = new Object();

		private final AtomicReference<Object> state = new AtomicReference<>();

		@Override
		public void accept(Connection connection) {
			if (!this.state.compareAndSet(null, connection)) {
				release(connection);
			}
		}

		void cancelled() {
			if (this.state.getAndSet(CANCELLED) instanceof Connection connection) {
				release(connection);
			}
		}

		private static void release(Connection connection) {
			// The rollback waits for the BEGIN still on the wire, then the release returns the connection.
			Mono.from(connection.rollbackTransaction()).onErrorComplete()
					.then(Mono.from(connection.close())).onErrorComplete()
					.subscribe();
		}
	}
}
