package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.test.MockResult;
import io.r2dbc.spi.test.MockRow;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A driver connection for unit tests: it records every exchange in the order it reaches the
 * "wire" (when subscribed), answers at once unless told to hold an exchange, and can fail one.
 */
final class ScriptedConnection implements Connection {

	final List<String> sent = new CopyOnWriteArrayList<>();

	private final String product;

	private final Function<String, Result> answers;

	private final Map<String, Sinks.Empty<Void>> held = new ConcurrentHashMap<>();

	private final Map<String, RuntimeException> failing = new ConcurrentHashMap<>();

	ScriptedConnection(String product, Function<String, Result> answers) {
		this.product = product;
		this.answers = answers;
	}

	ScriptedConnection() {
		this("PostgreSQL", sql -> sql.startsWith("SELECT")
				? MockResult.builder().row(MockRow.builder().identified(0, Integer.class, 1).build()).build()
				: MockResult.builder().rowsUpdated(1).build());
	}

	/** The next exchange whose text starts with {@code prefix} waits for {@link #answer}. */
	void hold(String prefix) {
		this.held.put(prefix, Sinks.empty());
	}

	/** Let the held exchange answer. */
	void answer(String prefix) {
		this.held.remove(prefix).tryEmitEmpty();
	}

	/** The next exchange whose text starts with {@code prefix} fails with {@code failure}. */
	void fail(String prefix, RuntimeException failure) {
		this.failing.put(prefix, failure);
	}

	private Mono<Void> exchange(String text) {
		return Mono.defer(() -> {
			this.sent.add(text);
			for (Map.Entry<String, RuntimeException> failure : this.failing.entrySet()) {
				if (text.startsWith(failure.getKey()) && this.failing.remove(failure.getKey()) != null) {
					return Mono.error(failure.getValue());
				}
			}
			for (Map.Entry<String, Sinks.Empty<Void>> hold : this.held.entrySet()) {
				if (text.startsWith(hold.getKey())) {
					return hold.getValue().asMono();
				}
			}
			return Mono.empty();
		});
	}

	ConnectionFactory factory() {
		ScriptedConnection connection = this;
		return new ConnectionFactory() {
			@Override
			public Publisher<? extends Connection> create() {
				return Mono.just(connection);
			}

			@Override
			public ConnectionFactoryMetadata getMetadata() {
				return () -> connection.product;
			}
		};
	}

	@Override
	public Statement createStatement(String sql) {
		ScriptedConnection connection = this;
		return new Statement() {
			@Override
			public Statement add() {
				return this;
			}

			@Override
			public Statement bind(int index, Object value) {
				return this;
			}

			@Override
			public Statement bind(String name, Object value) {
				return this;
			}

			@Override
			public Statement bindNull(int index, Class<?> type) {
				return this;
			}

			@Override
			public Statement bindNull(String name, Class<?> type) {
				return this;
			}

			@Override
			public Publisher<? extends Result> execute() {
				return connection.exchange(sql).then(Mono.fromSupplier(() -> connection.answers.apply(sql))).flux();
			}
		};
	}

	@Override
	public Publisher<Void> beginTransaction() {
		return exchange("BEGIN");
	}

	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return exchange("BEGIN");
	}

	@Override
	public Publisher<Void> commitTransaction() {
		return exchange("COMMIT");
	}

	@Override
	public Publisher<Void> rollbackTransaction() {
		return exchange("ROLLBACK");
	}

	@Override
	public Publisher<Void> createSavepoint(String name) {
		return exchange("SAVEPOINT " + name);
	}

	@Override
	public Publisher<Void> releaseSavepoint(String name) {
		return exchange("RELEASE " + name);
	}

	@Override
	public Publisher<Void> rollbackTransactionToSavepoint(String name) {
		return exchange("ROLLBACK TO " + name);
	}

	@Override
	public Publisher<Void> close() {
		return exchange("CLOSE");
	}

	@Override
	public Batch createBatch() {
		throw new UnsupportedOperationException();
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
				return ScriptedConnection.this.product;
			}

			@Override
			public String getDatabaseVersion() {
				return "15";
			}
		};
	}

	@Override
	public IsolationLevel getTransactionIsolationLevel() {
		return IsolationLevel.READ_COMMITTED;
	}

	@Override
	public Publisher<Void> setAutoCommit(boolean autoCommit) {
		return exchange("SET autocommit");
	}

	@Override
	public Publisher<Void> setLockWaitTimeout(Duration timeout) {
		return exchange("SET lock_timeout");
	}

	@Override
	public Publisher<Void> setStatementTimeout(Duration timeout) {
		return exchange("SET statement_timeout");
	}

	@Override
	public Publisher<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
		return exchange("SET ISOLATION");
	}

	@Override
	public Publisher<Boolean> validate(ValidationDepth depth) {
		return Mono.just(true);
	}
}
