package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.DataError;
import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * A connection whose {@link #close()} does nothing, because its owner (a transaction) closes it:
 * code that runs inside the transaction may close what it was handed, as R2DBC code does. It may
 * not begin, commit, roll back or switch autocommit: that would end the owner's transaction
 * behind its back. Everything else goes to the wrapped connection.
 */
public final class NonClosingConnection implements Connection, Wrapped<Connection> {

	private final Connection delegate;

	/**
	 * Wrap a connection owned by someone else.
	 * @param delegate the connection
	 */
	public NonClosingConnection(Connection delegate) {
		this.delegate = delegate;
	}

	/**
	 * Do nothing: the owner closes the connection.
	 * @return an empty {@code Mono}
	 */
	@Override
	public Mono<Void> close() {
		return Mono.empty();
	}

	@Override
	public Statement createStatement(String sql) {
		return this.delegate.createStatement(sql);
	}

	@Override
	public Batch createBatch() {
		return this.delegate.createBatch();
	}

	/**
	 * Refused: the owner begins and ends its transaction; code inside it nests with a savepoint.
	 * @return a {@code Mono} that fails with a {@link DataError}
	 */
	@Override
	public Publisher<Void> beginTransaction() {
		return refuseTransactionControl("begin");
	}

	/**
	 * Refused: the owner begins and ends its transaction; code inside it nests with a savepoint.
	 * @return a {@code Mono} that fails with a {@link DataError}
	 */
	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return refuseTransactionControl("begin");
	}

	/**
	 * Refused: the owner ends its transaction; a commit here would commit the owner's work.
	 * @return a {@code Mono} that fails with a {@link DataError}
	 */
	@Override
	public Publisher<Void> commitTransaction() {
		return refuseTransactionControl("commit");
	}

	/**
	 * Refused: the owner ends its transaction.
	 * @return a {@code Mono} that fails with a {@link DataError}
	 */
	@Override
	public Publisher<Void> rollbackTransaction() {
		return refuseTransactionControl("roll back");
	}

	/**
	 * The failure of code that tries to begin, end or switch off the transaction of a connection
	 * it does not own: it would commit or undo the owner's work behind the owner's back.
	 * @param what what the code tried
	 * @return a {@code Mono} that fails with a {@link DataError} of kind PERMANENT
	 */
	static Mono<Void> refuseTransactionControl(String what) {
		return Mono.error(new DataError(DataError.Kind.PERMANENT, "cannot " + what + " a transaction on a connection"
				+ " that runs inside another's transaction (a Spring transaction, TenantDatabase.transactional):"
				+ " its owner ends it; nest with a savepoint (Spring's PROPAGATION_NESTED, a nested"
				+ " TenantDatabase.transactional)", null, null, null, null, null));
	}

	@Override
	public Publisher<Void> createSavepoint(String name) {
		return this.delegate.createSavepoint(name);
	}

	@Override
	public Publisher<Void> releaseSavepoint(String name) {
		return this.delegate.releaseSavepoint(name);
	}

	@Override
	public Publisher<Void> rollbackTransactionToSavepoint(String name) {
		return this.delegate.rollbackTransactionToSavepoint(name);
	}

	@Override
	public boolean isAutoCommit() {
		return this.delegate.isAutoCommit();
	}

	/**
	 * Refused: switching autocommit on would commit the owner's transaction.
	 * @return a {@code Mono} that fails with a {@link DataError}
	 */
	@Override
	public Publisher<Void> setAutoCommit(boolean autoCommit) {
		return refuseTransactionControl("switch autocommit of");
	}

	@Override
	public ConnectionMetadata getMetadata() {
		return this.delegate.getMetadata();
	}

	@Override
	public IsolationLevel getTransactionIsolationLevel() {
		return this.delegate.getTransactionIsolationLevel();
	}

	@Override
	public Publisher<Void> setTransactionIsolationLevel(IsolationLevel level) {
		return this.delegate.setTransactionIsolationLevel(level);
	}

	@Override
	public Publisher<Void> setLockWaitTimeout(Duration timeout) {
		return this.delegate.setLockWaitTimeout(timeout);
	}

	@Override
	public Publisher<Void> setStatementTimeout(Duration timeout) {
		return this.delegate.setStatementTimeout(timeout);
	}

	@Override
	public Publisher<Boolean> validate(ValidationDepth depth) {
		return this.delegate.validate(depth);
	}

	@Override
	public Connection unwrap() {
		return this.delegate;
	}
}
