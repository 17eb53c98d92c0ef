package dev.switchboard.jooq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import java.util.function.Function;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.r2dbc.RoutedConnection;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantResolution;
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
 * The connection the routed {@code DSLContext}s hand jOOQ: routing waits until jOOQ creates the
 * statement, when the query's intent is known, so that a plain select may go to a replica and
 * anything else goes to the primary.
 *
 * <p>Where the intent comes from is the context's {@link IntentSource}. The first statement (or
 * {@code beginTransaction}) acquires the routed connection; every later call uses it, so a
 * transaction stays on one primary connection. Closing releases it, also when it arrives after the
 * close. Used by one jOOQ execution at a time, as jOOQ uses connections.
 */
final class DeferredConnection implements Connection {

	private static final Object CLOSED = new Object();

	private static final AtomicReferenceFieldUpdater<DeferredConnection, Object> TARGET =
			AtomicReferenceFieldUpdater.newUpdater(DeferredConnection.class, Object.class, "target");

	private final RoutingConnectionFactory routing;

	private final ContextView context;

	private final ConnectionMetadata metadata;

	private final IntentSource intent;

	private final @Nullable FacadeCall call;

	/** null until acquired, then the routed connection, then {@link #CLOSED}. */
	private volatile @Nullable Object target;

	/** Where a routed context takes the intent of each statement from. */
	enum IntentSource {

		/** The plain routed {@code DSLContext}: its {@link IntentInference} listener and the SQL. */
		RENDERING,

		/** The facade's {@code query} and {@code execute}: the {@link FacadeCall}'s candidate and the SQL. */
		CALL,

		/** Every statement reads: the facade's {@code read}. */
		READ,

		/** Every statement writes: the facade's {@code write}. */
		WRITE;

		AccessIntent of(String sql, @Nullable FacadeCall call) {
			return switch (this) {
				case RENDERING -> IntentInference.take(sql);
				case CALL -> IntentInference.refine(call != null ? call.candidate() : null, sql);
				case READ -> AccessIntent.READ;
				case WRITE -> AccessIntent.WRITE;
			};
		}
	}

	DeferredConnection(RoutingConnectionFactory routing, ContextView context, ConnectionMetadata metadata,
			IntentSource intent) {
		this.routing = routing;
		this.context = context;
		this.metadata = metadata;
		this.intent = intent;
		this.call = FacadeCall.find(context);
	}

	private boolean cancelled() {
		return this.call != null && this.call.isCancelled();
	}

	private @Nullable Connection acquired() {
		return this.target instanceof Connection connection ? connection : null;
	}

	/**
	 * Run {@code work} on the routed connection: the one acquired before, or one routed for
	 * {@code intent} now, by a {@link RoutedExecution}.
	 */
	<T> Flux<T> onConnection(@Nullable AccessIntent intent, RoutedExecution.Work<T> work) {
		Object current = this.target;
		if (current instanceof Connection connection) {
			return Flux.defer(() -> Flux.<T>from(work.on(connection)));
		}
		if (current == CLOSED || cancelled()) {
			return Flux.error(closed());
		}
		return RoutedExecution.assemble(this, intent, work);
	}

	/** Route a connection for {@code intent}, in the context this connection was made in. */
	Mono<Connection> route(@Nullable AccessIntent intent) {
		return this.routing.create(this.context, intent);
	}

	/**
	 * Keep a connection just routed as this one's, unless the call was cancelled or this connection
	 * closed (or, against jOOQ's habits, acquired concurrently) while it was on its way.
	 * @return {@code connection} if kept; else the one acquired concurrently, or {@code null}
	 */
	@Nullable Connection take(Connection connection) {
		if (!cancelled() && TARGET.compareAndSet(this, null, connection)) {
			return connection;
		}
		Object now = cancelled() ? null : this.target;
		return now instanceof Connection other ? other : null;
	}

	/**
	 * The facade rendered this call's SQL for one datasource's dialect; a connection to another
	 * (the tenant moved in between) must not run it.
	 * @return why not, or {@code null} if it may
	 */
	@Nullable DataError movedSince(Connection connection) {
		DataSource expected = this.call != null ? this.call.dataSource() : null;
		return expected != null && connection instanceof RoutedConnection routed
				? TenantResolution.moved(routed.tenant(), expected, routed.target().dataSource())
				: null;
	}

	static IllegalStateException closed() {
		return new IllegalStateException("connection closed");
	}

	private Mono<Void> withPrimary(Function<Connection, Publisher<Void>> action) {
		Object current = this.target;
		if (current instanceof Connection connection) {
			return Mono.defer(() -> Mono.from(action.apply(connection)));
		}
		if (current == CLOSED || cancelled()) {
			return Mono.error(closed());
		}
		return this.routing.createForTransaction(this.context).flatMap(connection -> {
			Connection taken = take(connection);
			return taken == connection ? Mono.from(action.apply(connection)) : Mono.from(connection.close()).then(
					taken != null ? Mono.defer(() -> Mono.from(action.apply(taken))) : Mono.error(closed()));
		});
	}

	@Override
	public Statement createStatement(String sql) {
		AccessIntent intent = this.intent.of(sql, this.call);
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
	private Mono<Void> ending(Function<Connection, Publisher<Void>> action) {
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

	/**
	 * A statement whose binds wait for the routed connection: recorded, then replayed on its
	 * statement. Recorded as pairs in one array (an index or a name, then the value), where a list of
	 * one lambda per bind took three objects more for a one-parameter select (issue 20).
	 */
	static final class DeferredStatement implements Statement, RoutedExecution.Work<Result> {

		/** In place of a name or an index: a call to {@code add()}. */
		private static final Object ADD = new Object();

		private final DeferredConnection connection;

		private final String sql;

		private final AccessIntent intent;

		/** Pairs of an {@code Integer} index, a {@code String} name or {@link #ADD}, then a value or a {@link Null}. */
		private Object @Nullable [] binds;

		private int recorded;

		private String @Nullable [] generatedColumns;

		private int fetchSize;

		private boolean fetchSizeSet;

		DeferredStatement(DeferredConnection connection, String sql, AccessIntent intent) {
			this.connection = connection;
			this.sql = sql;
			this.intent = intent;
		}

		/** A {@code bindNull}'s type. */
		private record Null(Class<?> type) {
		}

		private Statement record(Object key, @Nullable Object value) {
			Object[] binds = this.binds;
			if (binds == null) {
				binds = new Object[4];
				this.binds = binds;
			}
			else if (this.recorded == binds.length) {
				binds = Arrays.copyOf(binds, binds.length * 2);
				this.binds = binds;
			}
			binds[this.recorded++] = key;
			binds[this.recorded++] = value;
			return this;
		}

		@Override
		public Statement add() {
			return record(ADD, null);
		}

		@Override
		public Statement bind(int index, Object value) {
			return record(index, value);
		}

		@Override
		public Statement bind(String name, Object value) {
			return record(name, value);
		}

		@Override
		public Statement bindNull(int index, Class<?> type) {
			return record(index, new Null(type));
		}

		@Override
		public Statement bindNull(String name, Class<?> type) {
			return record(name, new Null(type));
		}

		@Override
		public Statement returnGeneratedValues(String... columns) {
			this.generatedColumns = columns;
			return this;
		}

		@Override
		public Statement fetchSize(int rows) {
			this.fetchSize = rows;
			this.fetchSizeSet = true;
			return this;
		}

		@Override
		public Flux<Result> execute() {
			return this.connection.onConnection(this.intent, this);
		}

		@Override
		public Publisher<? extends Result> on(Connection routed) {
			Statement statement = routed.createStatement(this.sql);
			Object[] binds = this.binds;
			for (int i = 0; i < this.recorded; i += 2) {
				replay(statement, binds[i], binds[i + 1]);
			}
			if (this.generatedColumns != null) {
				statement.returnGeneratedValues(this.generatedColumns);
			}
			if (this.fetchSizeSet) {
				statement.fetchSize(this.fetchSize);
			}
			return statement.execute();
		}

		private static void replay(Statement statement, Object key, @Nullable Object value) {
			if (key == ADD) {
				statement.add();
			}
			else if (key instanceof Integer index) {
				if (value instanceof Null bindNull) {
					statement.bindNull(index, bindNull.type());
				}
				else {
					statement.bind(index, value);
				}
			}
			else if (value instanceof Null bindNull) {
				statement.bindNull((String) key, bindNull.type());
			}
			else {
				statement.bind((String) key, value);
			}
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
			return this.connection.<Result>onConnection(AccessIntent.WRITE, routed -> {
				Batch batch = routed.createBatch();
				this.statements.forEach(batch::add);
				return batch.execute();
			});
		}
	}
}
