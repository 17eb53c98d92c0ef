package dev.switchboard.jooq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Consumer;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The connection the plain routed {@code DSLContext} hands jOOQ: routing waits until jOOQ creates
 * the statement, when {@link IntentInference} knows what the query is, so that a plain select may
 * go to a replica and anything else goes to the primary.
 *
 * <p>A context built for one intent (the facade's read and write contexts) routes every statement
 * with that intent instead. The first statement (or {@code beginTransaction}) acquires the routed
 * connection; every later
 * call uses it, so a transaction stays on one primary connection. Closing releases it, also when
 * it arrives after the close. Used by one jOOQ execution at a time, as jOOQ uses connections.
 */
final class DeferredConnection implements Connection {

	private static final Object CLOSED = new Object();

	private static final AtomicReferenceFieldUpdater<DeferredConnection, Object> TARGET =
			AtomicReferenceFieldUpdater.newUpdater(DeferredConnection.class, Object.class, "target");

	private final RoutingConnectionFactory routing;

	private final ContextView context;

	private final ConnectionMetadata metadata;

	private final @Nullable AccessIntent fixedIntent;

	private final @Nullable CancellationToken cancellation;

	/** null until acquired, then the routed connection, then {@link #CLOSED}. */
	private volatile @Nullable Object target;

	DeferredConnection(RoutingConnectionFactory routing, ContextView context, ConnectionMetadata metadata,
			@Nullable AccessIntent fixedIntent) {
		this.routing = routing;
		this.context = context;
		this.metadata = metadata;
		this.fixedIntent = fixedIntent;
		this.cancellation = CancellationToken.find(context);
	}

	private boolean cancelled() {
		return this.cancellation != null && this.cancellation.isCancelled();
	}

	private @Nullable Connection acquired() {
		return this.target instanceof Connection connection ? connection : null;
	}

	Mono<Connection> acquire(@Nullable AccessIntent intent) {
		return acquire(this.routing.create(this.context, intent));
	}

	private Mono<Connection> acquire(Mono<Connection> routed) {
		Object current = this.target;
		if (current instanceof Connection connection) {
			return Mono.just(connection);
		}
		if (current == CLOSED || cancelled()) {
			return Mono.error(new IllegalStateException("connection closed"));
		}
		return routed.flatMap(connection -> {
			if (!cancelled() && TARGET.compareAndSet(this, null, connection)) {
				return Mono.just(connection);
			}
			// Cancelled, closed or (against jOOQ's habits) acquired concurrently while on its way.
			Object now = cancelled() ? null : this.target;
			return Mono.from(connection.close()).then(now instanceof Connection other
					? Mono.just(other)
					: Mono.error(new IllegalStateException("connection closed")));
		});
	}

	private Mono<Void> withPrimary(java.util.function.Function<Connection, Publisher<Void>> action) {
		return acquire(this.routing.createForTransaction(this.context))
				.flatMap(connection -> Mono.from(action.apply(connection)));
	}

	@Override
	public Statement createStatement(String sql) {
		AccessIntent inferred = IntentInference.take(sql);
		AccessIntent intent = this.fixedIntent != null ? this.fixedIntent : inferred;
		Connection connection = acquired();
		return connection != null ? connection.createStatement(sql) : new DeferredStatement(this, sql, intent);
	}

	@Override
	public Batch createBatch() {
		Connection connection = acquired();
		return connection != null ? connection.createBatch() : new DeferredBatch(this);
	}

	/** Close now, and refuse any later statement: its execution was cancelled. */
	void abandon() {
		close().subscribe(null, failure -> {
		});
	}

	@Override
	public Mono<Void> close() {
		return Mono.defer(() -> {
			Object previous = TARGET.getAndSet(this, CLOSED);
			return previous instanceof Connection connection ? Mono.from(connection.close()) : Mono.empty();
		});
	}

	@Override
	public Mono<Void> beginTransaction() {
		return closingOnError(withPrimary(Connection::beginTransaction));
	}

	@Override
	public Mono<Void> beginTransaction(TransactionDefinition definition) {
		return closingOnError(withPrimary(connection -> connection.beginTransaction(definition)));
	}

	/** jOOQ does not close a connection whose BEGIN failed: close it here, keeping the failure. */
	private Mono<Void> closingOnError(Mono<Void> begin) {
		return begin.onErrorResume(failure -> close().onErrorResume(closing -> {
			failure.addSuppressed(closing);
			return Mono.empty();
		}).then(Mono.error(failure)));
	}

	@Override
	public Mono<Void> commitTransaction() {
		return ending(Connection::commitTransaction);
	}

	@Override
	public Mono<Void> rollbackTransaction() {
		return ending(Connection::rollbackTransaction);
	}

	/**
	 * End a transaction on the connection it began on; nothing to end when none was acquired (a
	 * cancel before the {@code BEGIN} took its connection), rather than acquire one to end.
	 */
	private Mono<Void> ending(java.util.function.Function<Connection, Publisher<Void>> action) {
		return Mono.defer(() -> {
			Connection connection = acquired();
			return connection != null ? Mono.from(action.apply(connection)) : Mono.empty();
		});
	}

	@Override
	public Mono<Void> createSavepoint(String name) {
		return withPrimary(connection -> connection.createSavepoint(name));
	}

	@Override
	public Mono<Void> releaseSavepoint(String name) {
		return withPrimary(connection -> connection.releaseSavepoint(name));
	}

	@Override
	public Mono<Void> rollbackTransactionToSavepoint(String name) {
		return withPrimary(connection -> connection.rollbackTransactionToSavepoint(name));
	}

	@Override
	public Mono<Void> setAutoCommit(boolean autoCommit) {
		return withPrimary(connection -> connection.setAutoCommit(autoCommit));
	}

	@Override
	public Mono<Void> setLockWaitTimeout(Duration timeout) {
		return withPrimary(connection -> connection.setLockWaitTimeout(timeout));
	}

	@Override
	public Mono<Void> setStatementTimeout(Duration timeout) {
		return withPrimary(connection -> connection.setStatementTimeout(timeout));
	}

	@Override
	public Mono<Void> setTransactionIsolationLevel(IsolationLevel level) {
		return withPrimary(connection -> connection.setTransactionIsolationLevel(level));
	}

	@Override
	public boolean isAutoCommit() {
		Connection connection = acquired();
		return connection == null || connection.isAutoCommit();
	}

	@Override
	public IsolationLevel getTransactionIsolationLevel() {
		Connection connection = acquired();
		return connection != null ? connection.getTransactionIsolationLevel() : IsolationLevel.READ_COMMITTED;
	}

	@Override
	public ConnectionMetadata getMetadata() {
		Connection connection = acquired();
		return connection != null ? connection.getMetadata() : this.metadata;
	}

	@Override
	public Mono<Boolean> validate(ValidationDepth depth) {
		return Mono.defer(() -> {
			Connection connection = acquired();
			return connection != null ? Mono.from(connection.validate(depth)) : Mono.just(this.target != CLOSED);
		});
	}

	/** A statement whose binds wait for the routed connection. */
	static final class DeferredStatement implements Statement {

		private final DeferredConnection connection;

		private final String sql;

		private final AccessIntent intent;

		private final List<Consumer<Statement>> steps = new ArrayList<>();

		DeferredStatement(DeferredConnection connection, String sql, AccessIntent intent) {
			this.connection = connection;
			this.sql = sql;
			this.intent = intent;
		}

		@Override
		public Statement add() {
			this.steps.add(Statement::add);
			return this;
		}

		@Override
		public Statement bind(int index, Object value) {
			this.steps.add(statement -> statement.bind(index, value));
			return this;
		}

		@Override
		public Statement bind(String name, Object value) {
			this.steps.add(statement -> statement.bind(name, value));
			return this;
		}

		@Override
		public Statement bindNull(int index, Class<?> type) {
			this.steps.add(statement -> statement.bindNull(index, type));
			return this;
		}

		@Override
		public Statement bindNull(String name, Class<?> type) {
			this.steps.add(statement -> statement.bindNull(name, type));
			return this;
		}

		@Override
		public Statement returnGeneratedValues(String... columns) {
			this.steps.add(statement -> statement.returnGeneratedValues(columns));
			return this;
		}

		@Override
		public Statement fetchSize(int rows) {
			this.steps.add(statement -> statement.fetchSize(rows));
			return this;
		}

		@Override
		public Flux<Result> execute() {
			return this.connection.acquire(this.intent).flatMapMany(routed -> {
				Statement statement = routed.createStatement(this.sql);
				for (Consumer<Statement> step : this.steps) {
					step.accept(statement);
				}
				return statement.execute();
			});
		}
	}

	/** A batch of SQL strings: always a write. */
	static final class DeferredBatch implements Batch {

		private final DeferredConnection connection;

		private final List<String> statements = new ArrayList<>();

		DeferredBatch(DeferredConnection connection) {
			this.connection = connection;
		}

		@Override
		public Batch add(String sql) {
			this.statements.add(sql);
			return this;
		}

		@Override
		public Flux<Result> execute() {
			return this.connection.acquire(AccessIntent.WRITE).flatMapMany(routed -> {
				Batch batch = routed.createBatch();
				this.statements.forEach(batch::add);
				return batch.execute();
			});
		}
	}
}
