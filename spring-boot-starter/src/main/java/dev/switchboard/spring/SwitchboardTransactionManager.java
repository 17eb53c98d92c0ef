package dev.switchboard.spring;

import java.util.Collection;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TransactionBinding;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.transaction.ConfigurableTransactionManager;
import org.springframework.transaction.ReactiveTransaction;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.TransactionExecutionListener;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

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
 * <p>A transaction whose caller cancels before it receives the transaction is rolled back and
 * its connection released, wherever the cancel finds the begin: Spring's
 * {@code getReactiveTransaction} can drop a begun transaction without a trace when the cancel
 * reaches it between the begin and the hand-over, so this manager wraps that method, which
 * {@code R2dbcTransactionManager} declares final: it delegates to one instead of extending it.
 *
 * <p>Spring's {@code TransactionalOperator} passes the work's elements on before the commit; a
 * caller that must see only committed results takes them after it ({@code .then(...)},
 * {@code .last()}), or uses {@code TenantDatabase.transactional}, which holds them back.
 * Thread-safe once built.
 */
public class SwitchboardTransactionManager implements ReactiveTransactionManager, ConfigurableTransactionManager {

	/** The context key under which a begin finds the guard of its {@code getReactiveTransaction}. */
	private static final Object GUARD = BeginGuard.class;

	private final RoutingConnectionFactory routing;

	private final Transactions transactions;

	/**
	 * Create a transaction manager over the routing factory, the key Spring binds each
	 * transaction's connection to, and so the factory {@code DatabaseClient} must use.
	 * @param routing the routing factory
	 */
	public SwitchboardTransactionManager(RoutingConnectionFactory routing) {
		this(routing, UnaryOperator.identity());
	}

	/**
	 * Create a transaction manager whose begins pass through {@code begin} once made: for tests
	 * that place a cancel where Spring's own operators would lose it.
	 */
	SwitchboardTransactionManager(RoutingConnectionFactory routing, UnaryOperator<Mono<Void>> begin) {
		this.routing = routing;
		this.transactions = new Transactions(routing, begin);
	}

	/**
	 * Return the routing factory, the key each transaction's connection is bound to.
	 * @return the routing factory
	 */
	public RoutingConnectionFactory getConnectionFactory() {
		return this.routing;
	}

	/**
	 * Return a transaction as Spring's {@code R2dbcTransactionManager} does; a cancel before the
	 * caller received it rolls back and releases the connection it began on, if any.
	 */
	@Override
	public Mono<ReactiveTransaction> getReactiveTransaction(@Nullable TransactionDefinition definition) {
		return Mono.defer(() -> {
			BeginGuard guard = new BeginGuard();
			return this.transactions.getReactiveTransaction(definition)
					.contextWrite(Context.of(GUARD, guard))
					.doOnCancel(guard::cancelled)
					// Neither the transaction nor an empty completion after a cancel: an operator
					// downstream that still took a completion (switchIfEmpty in @Transactional's
					// support) would run the method without a transaction.
					.flatMap(transaction -> guard.delivered() ? Mono.just(transaction) : Mono.never());
		});
	}

	@Override
	public Mono<Void> commit(ReactiveTransaction transaction) {
		return this.transactions.commit(transaction);
	}

	@Override
	public Mono<Void> rollback(ReactiveTransaction transaction) {
		return this.transactions.rollback(transaction);
	}

	@Override
	public void setTransactionExecutionListeners(Collection<TransactionExecutionListener> listeners) {
		this.transactions.setTransactionExecutionListeners(listeners);
	}

	@Override
	public Collection<TransactionExecutionListener> getTransactionExecutionListeners() {
		return this.transactions.getTransactionExecutionListeners();
	}

	/** Spring's manager, with the begin guarded and the end marked. */
	private static final class Transactions extends R2dbcTransactionManager {

		private static final long serialVersionUID = 1L;

		private final transient UnaryOperator<Mono<Void>> begin;

		Transactions(RoutingConnectionFactory routing, UnaryOperator<Mono<Void>> begin) {
			super(routing);
			this.begin = begin;
		}

		/**
		 * Begin on a connection to the primary made for this one transaction, told to the guard
		 * of the {@code getReactiveTransaction} that asked, as soon as it is handed out.
		 */
		@Override
		protected Mono<Void> doBegin(TransactionSynchronizationManager synchronizationManager, Object transaction,
				TransactionDefinition definition) {
			return Mono.deferContextual(context -> {
				SpringBoundTransactions.clearEnded(synchronizationManager);
				BeginGuard guard = context.getOrDefault(GUARD, null);
				Mono<Void> begun = super.doBegin(synchronizationManager, transaction, definition);
				return this.begin.apply(guard == null ? begun : begun.contextWrite(TransactionBinding.beginning(guard)));
			});
		}

		/**
		 * Mark the transaction context as ended before Spring unbinds the connection: what the work
		 * still submits from now on fails with {@code DataError.transactionEnded} instead of taking
		 * a fresh connection in autocommit (see {@link SpringBoundTransactions#hasEnded}).
		 */
		@Override
		protected Mono<Void> doCleanupAfterCompletion(TransactionSynchronizationManager synchronizationManager,
				Object transaction) {
			SpringBoundTransactions.markEnded(synchronizationManager, obtainConnectionFactory());
			return super.doCleanupAfterCompletion(synchronizationManager, transaction);
		}
	}

	/**
	 * One {@code getReactiveTransaction}: the connection its begin was handed, whether the caller
	 * received the transaction, whether the caller cancelled first. The transaction belongs to
	 * whichever of the two comes first: once delivered, Spring's operator ends it (a cancel then
	 * rolls it back); once cancelled, the guard rolls back and releases the connection, whether it
	 * was handed out before the cancel or after (a cancel that overtakes the hand-out), and a
	 * transaction that still arrives is not passed on, nor is the end of the sequence. Spring's own operators can drop a begun
	 * transaction without telling its begin (a cancel that reaches {@code thenReturn} after the
	 * begin completed but before the transaction went on), so the cancel is taken at the caller's
	 * end, not at the begin's.
	 */
	private static final class BeginGuard implements Consumer<Connection> {

		private static final Object CANCELLED = new Object();

		private static final Object DELIVERED = new Object();

		private final AtomicReference<@Nullable Object> state = new AtomicReference<>();

		/** The connection made for the begin, on the thread that hands it out. */
		@Override
		public void accept(Connection connection) {
			if (!this.state.compareAndSet(null, connection)) {
				release(connection);
			}
		}

		/** The caller cancelled: release the connection unless the caller holds the transaction. */
		void cancelled() {
			Object previous = this.state.getAndUpdate(current -> current == DELIVERED ? DELIVERED : CANCELLED);
			if (previous instanceof Connection connection) {
				release(connection);
			}
		}

		/** The transaction reaches the caller: pass it on, unless the caller cancelled first. */
		boolean delivered() {
			Object previous = this.state.getAndUpdate(current -> current == CANCELLED ? CANCELLED : DELIVERED);
			return previous != CANCELLED;
		}

		private static void release(Connection connection) {
			// The rollback waits for the BEGIN still on the wire, then the release returns the connection.
			Mono.from(connection.rollbackTransaction()).onErrorComplete()
					.then(Mono.from(connection.close())).onErrorComplete()
					.subscribe();
		}
	}
}
