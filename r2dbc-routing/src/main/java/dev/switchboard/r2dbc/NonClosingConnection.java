package dev.switchboard.r2dbc;

import java.time.Duration;

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
 * code that runs inside the transaction may close what it was handed, as R2DBC code does.
 * Everything else goes to the wrapped connection.
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

	@Override
	public Publisher<Void> beginTransaction() {
		return this.delegate.beginTransaction();
	}

	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return this.delegate.beginTransaction(definition);
	}

	@Override
	public Publisher<Void> commitTransaction() {
		return this.delegate.commitTransaction();
	}

	@Override
	public Publisher<Void> rollbackTransaction() {
		return this.delegate.rollbackTransaction();
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

	@Override
	public Publisher<Void> setAutoCommit(boolean autoCommit) {
		return this.delegate.setAutoCommit(autoCommit);
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
