package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Supplier;

import dev.switchboard.api.DataError;
import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionMetadata;
import io.r2dbc.spi.IsolationLevel;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.TransactionDefinition;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The connection handed to the work of one scope of a transaction (the whole transaction, or a
 * savepoint inside it): its close does nothing (the transaction owns the connection), and once
 * the scope ends ({@link #end}) it sends no statement any more.
 *
 * <p>A savepoint whose work is cancelled is rolled back to; a statement of that work that still
 * runs afterwards (jOOQ may run a query whose subscription was cancelled) would land in the
 * enclosing transaction and be committed with it. So the end of the scope refuses new statements
 * first, then waits until those already sent have answered, then rolls back or releases. The
 * connection made for the whole transaction does the same at its commit or rollback (see
 * {@link TransactionBinding#beginning()}). Thread-safe.
 */
public final class ScopedConnection extends Drains implements Connection, Wrapped<Connection> {

	private static final AtomicIntegerFieldUpdater<ScopedConnection> ENDED =
			AtomicIntegerFieldUpdater.newUpdater(ScopedConnection.class, "ended");

	private final Connection delegate;

	/** Set by the one {@link #end} that runs. */
	private volatile int ended;

	/** The enclosing scope, whose end waits for this one's, or {@code null}. */
	private final @Nullable ScopedConnection parent;

	/**
	 * Open the outermost scope of a transaction, on its connection.
	 * @param delegate the transaction's connection
	 */
	public ScopedConnection(Connection delegate) {
		this(delegate, null);
	}

	private ScopedConnection(Connection delegate, @Nullable ScopedConnection parent) {
		this.delegate = delegate;
		this.parent = parent;
		fence();
	}

	/**
	 * Open a scope inside this one, such as a savepoint: this scope's {@link #end} waits until
	 * the inner one has ended, so that a transaction never commits while the rollback of a
	 * cancelled savepoint is still on its way (a {@code timeout} tells its subscriber at once, and
	 * the rollback runs after). The inner scope runs its statements on the same connection.
	 * @return the inner scope
	 * @throws DataError if this scope has ended
	 */
	public ScopedConnection open() {
		if (admit() == REFUSED) {
			throw (DataError) refusal();
		}
		return new ScopedConnection(this.delegate, this);
	}

	/**
	 * End the scope: refuse every statement from now on, wait for those already sent and for the
	 * scopes opened inside it, then run {@code ending} (a commit, a rollback, a release of the
	 * savepoint) on the transaction's connection.
	 * @param ending what ends the scope, called once the scope's statements have answered
	 * @return a {@code Mono} that completes when {@code ending} did
	 */
	public Mono<Void> end(Supplier<? extends Publisher<Void>> ending) {
		return Mono.defer(() -> {
			if (!ENDED.compareAndSet(this, 0, 1)) {
				// Ended already (a cancel racing a failure): the enclosing scope heard of it once.
				return Mono.empty();
			}
			seal();
			Mono<Void> ended = whenQuiet(Mono.defer(() -> Mono.from(ending.get())));
			ScopedConnection parent = this.parent;
			return parent == null ? ended : ended.doFinally(signal -> parent.ended());
		});
	}

	@Override
	Throwable refusal() {
		return new DataError(DataError.Kind.PERMANENT, "the transaction or savepoint has ended (committed, released,"
				+ " rolled back or cancelled): the statement was not sent", null, null, null, null, null);
	}

	/** Admit one exchange of the scope, counted until it terminates or is cancelled. */
	private <T> Flux<T> admitted(Supplier<? extends Publisher<T>> exchange) {
		return Flux.defer(() -> {
			if (admit() == REFUSED) {
				return Flux.error(refusal());
			}
			Publisher<T> started;
			try {
				// Drivers throw here for an incomplete binding: then nothing runs, and nothing is counted.
				started = exchange.get();
			}
			catch (RuntimeException failure) {
				ended();
				return Flux.error(failure);
			}
			// A cancelled exchange runs on, counted by the transaction's connection, whose own end waits for it.
			return Flux.<T>from(started).doFinally(signal -> ended());
		});
	}

	@Override
	public Statement createStatement(String sql) {
		Statement statement = this.delegate.createStatement(sql);
		return new ScopedStatement(statement);
	}

	@Override
	public Batch createBatch() {
		Batch batch = this.delegate.createBatch();
		return new Batch() {
			@Override
			public Batch add(String sql) {
				batch.add(sql);
				return this;
			}

			@Override
			public Publisher<? extends Result> execute() {
				return admitted(batch::execute);
			}
		};
	}

	/**
	 * Do nothing: the transaction closes the connection.
	 * @return an empty {@code Mono}
	 */
	@Override
	public Mono<Void> close() {
		return Mono.empty();
	}

	/**
	 * Refused: the transaction is its owner's to begin and end; nest with a savepoint.
	 * @return a failed {@code Mono}
	 */
	@Override
	public Publisher<Void> beginTransaction() {
		return NonClosingConnection.refuseTransactionControl("begin");
	}

	/**
	 * Refused: the transaction is its owner's to begin and end; nest with a savepoint.
	 * @return a failed {@code Mono}
	 */
	@Override
	public Publisher<Void> beginTransaction(TransactionDefinition definition) {
		return NonClosingConnection.refuseTransactionControl("begin");
	}

	/**
	 * Refused: the transaction is its owner's to begin and end.
	 * @return a failed {@code Mono}
	 */
	@Override
	public Publisher<Void> commitTransaction() {
		return NonClosingConnection.refuseTransactionControl("commit");
	}

	/**
	 * Refused: the transaction is its owner's to begin and end.
	 * @return a failed {@code Mono}
	 */
	@Override
	public Publisher<Void> rollbackTransaction() {
		return NonClosingConnection.refuseTransactionControl("roll back");
	}

	@Override
	public Publisher<Void> createSavepoint(String name) {
		return admitted(() -> this.delegate.createSavepoint(name));
	}

	@Override
	public Publisher<Void> releaseSavepoint(String name) {
		return admitted(() -> this.delegate.releaseSavepoint(name));
	}

	@Override
	public Publisher<Void> rollbackTransactionToSavepoint(String name) {
		return admitted(() -> this.delegate.rollbackTransactionToSavepoint(name));
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

	/** A statement of the scope: binds go straight through; its execution is admitted. */
	private final class ScopedStatement implements Statement, Wrapped<Statement> {

		private final Statement statement;

		ScopedStatement(Statement statement) {
			this.statement = statement;
		}

		@Override
		public Statement add() {
			this.statement.add();
			return this;
		}

		@Override
		public Statement bind(int index, Object value) {
			this.statement.bind(index, value);
			return this;
		}

		@Override
		public Statement bind(String name, Object value) {
			this.statement.bind(name, value);
			return this;
		}

		@Override
		public Statement bindNull(int index, Class<?> type) {
			this.statement.bindNull(index, type);
			return this;
		}

		@Override
		public Statement bindNull(String name, Class<?> type) {
			this.statement.bindNull(name, type);
			return this;
		}

		@Override
		public Statement returnGeneratedValues(String... columns) {
			this.statement.returnGeneratedValues(columns);
			return this;
		}

		@Override
		public Statement fetchSize(int rows) {
			this.statement.fetchSize(rows);
			return this;
		}

		@Override
		public Publisher<? extends Result> execute() {
			return admitted(this.statement::execute);
		}

		@Override
		public Statement unwrap() {
			return this.statement;
		}
	}
}
