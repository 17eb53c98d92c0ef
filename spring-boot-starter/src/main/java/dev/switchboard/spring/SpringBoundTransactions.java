package dev.switchboard.spring;

import dev.switchboard.r2dbc.BoundTransactions;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.r2dbc.connection.ConnectionHolder;
import org.springframework.transaction.reactive.TransactionContext;
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
 */
final class SpringBoundTransactions implements BoundTransactions {

	static final SpringBoundTransactions INSTANCE = new SpringBoundTransactions();

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
}
