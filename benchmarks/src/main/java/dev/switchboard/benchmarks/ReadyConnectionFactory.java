package dev.switchboard.benchmarks;

import java.time.Duration;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import reactor.core.publisher.Mono;

/**
 * A connection factory whose {@link #create()} is an already-completed {@code Mono} of an inert
 * connection, standing in for a pool that always has a connection ready.
 *
 * <p>A benchmark over it measures only what sits above the factory (routing, Reactor), never a
 * pool or a network. The connection does nothing: it cannot run statements, and its other methods
 * complete at once. Immutable and thread-safe.
 */
final class ReadyConnectionFactory implements ConnectionFactory {

	private static final ConnectionFactoryMetadata METADATA = () -> "PostgreSQL";

	private final Mono<Connection> create;

	/**
	 * Create a factory that hands out {@code connection} to every subscriber.
	 * @param connection the connection, usually {@link #inertConnection()}
	 */
	ReadyConnectionFactory(Connection connection) {
		this.create = Mono.just(connection);
	}

	/**
	 * Return a connection that does nothing, for {@link #ReadyConnectionFactory(Connection)}.
	 * @return a new inert connection
	 */
	static Connection inertConnection() {
		return new InertConnection();
	}

	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return METADATA;
	}

	/** A connection that completes every lifecycle call at once and runs no statement. */
	private static final class InertConnection implements Connection {

		@Override
		public Mono<Void> beginTransaction() {
			return Mono.empty();
		}

		@Override
		public Mono<Void> beginTransaction(TransactionDefinition definition) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> close() {
			return Mono.empty();
		}

		@Override
		public Mono<Void> commitTransaction() {
			return Mono.empty();
		}

		@Override
		public Batch createBatch() {
			throw new UnsupportedOperationException("an inert connection runs no statement");
		}

		@Override
		public Mono<Void> createSavepoint(String name) {
			return Mono.empty();
		}

		@Override
		public Statement createStatement(String sql) {
			throw new UnsupportedOperationException("an inert connection runs no statement");
		}

		@Override
		public boolean isAutoCommit() {
			return true;
		}

		@Override
		public ConnectionMetadata getMetadata() {
			return new ConnectionMetadata() {

				@Override
				public String getDatabaseProductName() {
					return METADATA.getName();
				}

				@Override
				public String getDatabaseVersion() {
					return "inert";
				}
			};
		}

		@Override
		public IsolationLevel getTransactionIsolationLevel() {
			return IsolationLevel.READ_COMMITTED;
		}

		@Override
		public Mono<Void> releaseSavepoint(String name) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> rollbackTransaction() {
			return Mono.empty();
		}

		@Override
		public Mono<Void> rollbackTransactionToSavepoint(String name) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> setAutoCommit(boolean autoCommit) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> setLockWaitTimeout(Duration timeout) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> setStatementTimeout(Duration timeout) {
			return Mono.empty();
		}

		@Override
		public Mono<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
			return Mono.empty();
		}

		@Override
		public Mono<Boolean> validate(ValidationDepth depth) {
			return Mono.just(true);
		}

		@Override
		public String toString() {
			return "InertConnection";
		}
	}
}
