package dev.switchboard.jooq;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Mono;

/**
 * Hands out one connection, already in a transaction, whose life the transaction owns: closing
 * what this factory hands out does nothing.
 */
final class SingleConnectionFactory implements ConnectionFactory {

	private final Mono<Connection> create;

	private final ConnectionFactoryMetadata metadata;

	SingleConnectionFactory(Connection connection) {
		this.create = Mono.just(new NonClosingConnection(connection));
		ConnectionMetadata connectionMetadata = connection.getMetadata();
		this.metadata = connectionMetadata::getDatabaseProductName;
	}

	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.metadata;
	}

	/** A connection whose close is left to the transaction. */
	private record NonClosingConnection(Connection delegate) implements Connection, Wrapped<Connection> {

		@Override
		public org.reactivestreams.Publisher<Void> beginTransaction() {
			return this.delegate.beginTransaction();
		}

		@Override
		public org.reactivestreams.Publisher<Void> beginTransaction(io.r2dbc.spi.TransactionDefinition definition) {
			return this.delegate.beginTransaction(definition);
		}

		@Override
		public Mono<Void> close() {
			return Mono.empty();
		}

		@Override
		public org.reactivestreams.Publisher<Void> commitTransaction() {
			return this.delegate.commitTransaction();
		}

		@Override
		public io.r2dbc.spi.Batch createBatch() {
			return this.delegate.createBatch();
		}

		@Override
		public org.reactivestreams.Publisher<Void> createSavepoint(String name) {
			return this.delegate.createSavepoint(name);
		}

		@Override
		public io.r2dbc.spi.Statement createStatement(String sql) {
			return this.delegate.createStatement(sql);
		}

		@Override
		public boolean isAutoCommit() {
			return this.delegate.isAutoCommit();
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return this.delegate.getMetadata();
		}

		@Override
		public io.r2dbc.spi.IsolationLevel getTransactionIsolationLevel() {
			return this.delegate.getTransactionIsolationLevel();
		}

		@Override
		public org.reactivestreams.Publisher<Void> releaseSavepoint(String name) {
			return this.delegate.releaseSavepoint(name);
		}

		@Override
		public org.reactivestreams.Publisher<Void> rollbackTransaction() {
			return this.delegate.rollbackTransaction();
		}

		@Override
		public org.reactivestreams.Publisher<Void> rollbackTransactionToSavepoint(String name) {
			return this.delegate.rollbackTransactionToSavepoint(name);
		}

		@Override
		public org.reactivestreams.Publisher<Void> setAutoCommit(boolean autoCommit) {
			return this.delegate.setAutoCommit(autoCommit);
		}

		@Override
		public org.reactivestreams.Publisher<Void> setLockWaitTimeout(java.time.Duration timeout) {
			return this.delegate.setLockWaitTimeout(timeout);
		}

		@Override
		public org.reactivestreams.Publisher<Void> setStatementTimeout(java.time.Duration timeout) {
			return this.delegate.setStatementTimeout(timeout);
		}

		@Override
		public org.reactivestreams.Publisher<Void> setTransactionIsolationLevel(io.r2dbc.spi.IsolationLevel level) {
			return this.delegate.setTransactionIsolationLevel(level);
		}

		@Override
		public org.reactivestreams.Publisher<Boolean> validate(io.r2dbc.spi.ValidationDepth depth) {
			return this.delegate.validate(depth);
		}

		@Override
		public Connection unwrap() {
			return this.delegate;
		}
	}
}
