package dev.switchboard.spring;

import java.util.Map;

import dev.switchboard.r2dbc.BoundTransactions;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.connection.ConnectionHolder;
import org.springframework.transaction.reactive.TransactionContext;
import org.springframework.transaction.reactive.TransactionSynchronizationManager;
import reactor.util.context.ContextView;

/**
 * Finds the connection of the Spring reactive transaction ({@code TransactionalOperator},
 * {@code @Transactional}) that an {@code R2dbcTransactionManager} bound to the routing factory, in
 * the Reactor Context, as {@code DatabaseClient} finds it: jOOQ and plain R2DBC then join the
 * transaction through the routing factory itself, with no decorator and whatever
 * {@code RoutedDsl} the application built.
 *
 * <p>Reads the {@link TransactionContext} that Spring's operator puts into the context, and its
 * resources; takes the holder's connection without counting a reference on it (Spring 7.0's
 * {@code ConnectionHolder.released()} drops the connection when the count falls to zero, which a
 * closing proxy would otherwise cause inside the transaction).
 *
 * <p>Tells a transaction that has ended from none at all, so that its work's late statements are
 * refused instead of run in autocommit: Spring's cleanup clears the {@link TransactionContext}
 * (not active, no synchronization) and then unbinds the connection, and the
 * {@link SwitchboardTransactionManager} marks the context with {@link #markEnded} before that
 * cleanup, so that no moment in between looks like "no transaction". A scope that merely runs
 * without a transaction ({@code SUPPORTS}, or the outer scope resumed after an inner
 * {@code REQUIRES_NEW}) keeps its synchronization, or never had the mark, and runs in autocommit.
 */
final class SpringBoundTransactions implements BoundTransactions {

	static final SpringBoundTransactions INSTANCE = new SpringBoundTransactions();

	/** The key of the mark, in a transaction context's resources, whose value is the factory. */
	private static final Object ENDED = new Object() {
		@Override
		public String toString() {
			return "Switchboard: transaction ended";
		}
	};

	private SpringBoundTransactions() {
	}

	@Override
	public @Nullable Connection find(ContextView context, ConnectionFactory factory) {
		TransactionContext transaction = context.getOrDefault(TransactionContext.class, null);
		if (transaction == null || !transaction.isActualTransactionActive()) {
			return null;
		}
		// getConnection() fails if Spring dropped the holder's connection: then nothing may run in its stead.
		return transaction.getResources().get(factory) instanceof ConnectionHolder holder ? holder.getConnection() : null;
	}

	@Override
	public boolean hasEnded(ContextView context, ConnectionFactory factory) {
		TransactionContext transaction = context.getOrDefault(TransactionContext.class, null);
		if (transaction == null || transaction.isActualTransactionActive() || transaction.getSynchronizations() != null) {
			return false;
		}
		Map<Object, Object> resources = transaction.getResources();
		return resources.get(ENDED) == factory || resources.get(factory) instanceof ConnectionHolder;
	}

	/**
	 * Mark the transaction context as that of a transaction over {@code factory} that is ending:
	 * called before Spring's cleanup unbinds the connection.
	 */
	static void markEnded(TransactionSynchronizationManager synchronizationManager, ConnectionFactory factory) {
		if (!synchronizationManager.hasResource(ENDED)) {
			synchronizationManager.bindResource(ENDED, factory);
		}
	}

	/** Remove the mark of an earlier transaction of the same context: a new one begins. */
	static void clearEnded(TransactionSynchronizationManager synchronizationManager) {
		synchronizationManager.unbindResourceIfPossible(ENDED);
	}
}
