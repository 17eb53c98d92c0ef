package dev.switchboard.r2dbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.function.Supplier;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
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
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.ContextView;

/**
 * A connection handed out by {@link RoutingConnectionFactory}: the pooled connection of one
 * target, which knows where it leads and classifies every database failure of itself, its
 * statements and its results as a {@link DataError} naming the tenant,
 * datasource and role.
 *
 * <p>Closing it returns the pooled connection to its pool. Failures of the caller's own code, such
 * as a row-mapping function, pass through unchanged. As thread-safe as the underlying connection.
 *
 * <p>Sealed: the routing path's hand-off ({@code HandOff}) is at once the subscriber that waits
 * for the pooled connection and the connection it hands out, one object per routing decision
 * instead of two.
 */
public sealed class RoutedConnection extends Drains implements Connection, Wrapped<Connection> permits HandOff {

	/** Set once, by {@link #connected(Connection)}, before this connection is handed out. */
	private Connection delegate;

	/** May change before the connection is handed out, when a read fails over to another target. */
	DataSource.Target target;

	/** The tenant on its placement; this connection holds a lease on it until its release starts. */
	final Tenancy tenancy;

	final RoutingListener listener;

	final ContextView context;

	/** What the connection was routed for. */
	enum Use {
		/** A read; a replica that fails to connect is not replaced. */
		READ,
		/** A read of a replica, sent once to another target if the replica fails to connect. */
		READ_WITH_FAILOVER,
		/** A write or an unknown intent: the primary. */
		WRITE,
		/**
		 * A transaction about to begin: the primary, {@linkplain Drains#fence() fenced}, so that once
		 * it commits or rolls back no statement of its work runs on it any more.
		 */
		TRANSACTION
	}

	/** Routed for a write, a transaction or an unknown intent: may leave a causal position. */
	private final boolean write;

	private volatile boolean closed;

	/** Whether a statement or batch was created: only then can a causal write have happened. */
	private volatile boolean used;

	private static final VarHandle SETTLED;

	private static final VarHandle CLOSED;

	static {
		try {
			MethodHandles.Lookup lookup = MethodHandles.lookup();
			SETTLED = lookup.findVarHandle(RoutedConnection.class, "settled", boolean.class);
			CLOSED = lookup.findVarHandle(RoutedConnection.class, "closed", boolean.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	/**
	 * The request whose causal token this connection updates when released: set for connections
	 * to a causal primary routed for a write, a transaction or an unknown intent; reads that the
	 * pin or a causal fallback sent to the primary write nothing and leave no position.
	 */
	private @Nullable RoutingContext causalRequest;

	/** A boolean, not an int: with the fields of {@code HandOff} the object stays at 56 bytes. */
	private volatile boolean settled;

	RoutedConnection(DataSource.Target target, Tenancy tenancy, RoutingListener listener, ContextView context,
			Use use) {
		this.target = target;
		this.tenancy = tenancy;
		this.listener = listener;
		this.context = context;
		this.write = use == Use.WRITE || use == Use.TRANSACTION;
		if (use == Use.TRANSACTION) {
			fenceForTransaction();
		}
	}

	/**
	 * Take the pooled connection of {@link #target}: from here on this object is that connection.
	 * @param delegate the pooled connection
	 * @return this connection
	 */
	final RoutedConnection connected(Connection delegate) {
		this.delegate = delegate;
		if (ownsTransaction()) {
			TransactionBinding binding = TransactionBinding.find(this.context);
			if (binding != null && binding.isBeginning()) {
				binding.created(this);
			}
		}
		if (this.write) {
			RoutingContext request = CausalReads.requestOf(this.target, this.context);
			if (request != null) {
				this.causalRequest = request;
				request.pin().positionPending();
			}
		}
		return this;
	}

	/**
	 * Return the server this connection leads to.
	 * @return the target
	 */
	public DataSource.Target target() {
		return this.target;
	}

	/**
	 * Return the role of the server this connection leads to.
	 * @return primary or replica
	 */
	public Role role() {
		return this.target.role();
	}

	/**
	 * Return the tenant this connection was routed for.
	 * @return the tenant
	 */
	public TenantId tenant() {
		return this.tenancy.tenant;
	}

	/**
	 * Classify a failure of a driver exchange (never the caller's code): every failure leaves as
	 * a {@link DataError}, and the datasource's health hears of it (see {@link ConnectionFailures}).
	 */
	DataError classify(Throwable failure) {
		return ConnectionFailures.classify(this, failure);
	}

	@Override
	final Throwable refusal() {
		return DataError.transactionEnded(this.tenancy.tenant, this.target.dataSource().name(), this.target.role());
	}

	/**
	 * An exchange of at most one answer, shielded from a cancel: it runs to its end, and the
	 * release waits for it. Refused once the transaction ended.
	 */
	<T> Mono<T> guard(Publisher<T> publisher) {
		return CancelShield.oneClassified(publisher, this, this);
	}

	/**
	 * A session setting, admitted also after the transaction ended: transaction managers restore
	 * the isolation level or autocommit after the commit.
	 */
	private <T> Mono<T> session(Publisher<T> publisher) {
		return CancelShield.endClassified(publisher, this);
	}

	/**
	 * A statement's or batch's execution, shielded from a cancel: its results are read to their
	 * end, and the release waits for them.
	 * @param results the driver's {@code execute()}
	 * @param sql the statement, or {@code null} for a batch; read only on failure, to tell a read
	 * (a lost connection loses nothing) from a write in autocommit (its outcome is unknown)
	 */
	Flux<Result> execute(Publisher<? extends Result> results, @Nullable String sql) {
		return CancelShield.results(results, this, this, sql);
	}

	/**
	 * Classify a failure of a statement's exchange: a write in autocommit on the primary whose
	 * connection was lost may have been applied (see {@link ConnectionFailures}).
	 */
	DataError classifyStatement(Throwable failure, @Nullable String sql) {
		return ConnectionFailures.classifyStatement(this, failure, sql);
	}

	@Override
	public Mono<Void> beginTransaction() {
		return guard(Mono.defer(() -> {
			beginning();
			return Mono.from(this.delegate.beginTransaction());
		}));
	}

	@Override
	public Mono<Void> beginTransaction(TransactionDefinition definition) {
		return guard(Mono.defer(() -> {
			beginning();
			return Mono.from(this.delegate.beginTransaction(definition));
		}));
	}

	/**
	 * A transaction begins: from now on every exchange is counted until it ends, so that the
	 * release of a plain connection (whose pool rolls back what is left open) waits for the
	 * statements its cancelled transaction already admitted, and sends its rollback after them.
	 */
	private void beginning() {
		inTransaction(true);
	}

	/**
	 * End the transaction: on a connection made for a transaction, refuse every statement from
	 * now on; then wait until the exchanges already admitted (and those a cancel left running)
	 * have ended, so that the end is sent after them and the driver knows the transaction began.
	 */
	private Mono<Void> end(Supplier<Publisher<Void>> ending) {
		return Mono.defer(() -> {
			if (ownsTransaction()) {
				seal();
			}
			// Cleared once the end is over: a statement admitted before it is still inside the transaction.
			return whenQuiet(CancelShield.end(Mono.defer(() -> Mono.from(ending.get())), this))
					.doFinally(signal -> inTransaction(false));
		});
	}

	/**
	 * Return the connection to its pool, also when the subscriber cancels. On the primary of a
	 * datasource in {@link ReadConsistency#CAUSAL} mode, a connection that ran statements first
	 * reads the primary's position after its last commit into the request's {@link CausalToken}; if
	 * that fails, the request's reads stay pinned to the primary. The release waits for the
	 * exchanges that a cancel left running (see {@link Drains}): the next borrower gets a quiet
	 * connection.
	 */
	@Override
	public Mono<Void> close() {
		// Nothing runs on a connection after its release was asked for.
		seal();
		RoutingContext routing = this.causalRequest;
		if (routing == null) {
			return Release.assemble(this);
		}
		// Set only on the primary of a datasource with causal reads.
		CausalReads causal = ((Replicated) this.target.dataSource()).causalReads();
		Mono<Void> capture = this.used && !this.closed && causal != null
				? causal.recordCommittedPosition(this.delegate, routing, this.target.dataSource().name())
				: Mono.empty();
		// Settled before the caller hears of the release (doFinally would run after), so that its
		// next read already sees the token.
		Mono<Void> release = capture.then(Mono.defer(() -> Mono.from(release()))).doOnTerminate(this::settle);
		// Shielded: a release, once asked for, runs to its end even if its subscriber cancels. Not
		// counted as a drain: it is what waits for them.
		return CancelShield.oneClassified(whenQuiet(release), null, this);
	}

	/**
	 * Start the release: mark this connection closed and give the tenant's lease back, once, when
	 * the first release starts (nothing runs after it), and close the pooled connection.
	 */
	private Publisher<Void> release() {
		if (CLOSED.compareAndSet(this, false, true)) {
			this.tenancy.release();
		}
		return this.delegate.close();
	}

	/**
	 * The release of a connection without causal reads: once no cancelled exchange runs, it
	 * {@linkplain #release() starts}, shielded and classified as {@code close()} promises. One
	 * publisher, where two {@code Mono.defer}s, their lambdas and the shield's publisher took five
	 * objects (issue 20).
	 */
	private static final class Release extends Mono<Void> {

		private final RoutedConnection connection;

		private Release(RoutedConnection connection) {
			this.connection = connection;
		}

		static Mono<Void> assemble(RoutedConnection connection) {
			return onAssembly(new Release(connection));
		}

		@Override
		public void subscribe(CoreSubscriber<? super Void> actual) {
			RoutedConnection connection = this.connection;
			if (!connection.quiet()) {
				// A cancel left an exchange running: wait for it, as the causal release does.
				CancelShield.oneClassified(connection.whenQuiet(Mono.defer(() -> Mono.from(connection.release()))),
						null, connection).subscribe(actual);
				return;
			}
			Publisher<Void> close;
			try {
				close = connection.release();
			}
			catch (Throwable failure) {
				Operators.error(actual, connection.classify(Operators.onOperatorError(failure, actual.currentContext())));
				return;
			}
			CancelShield.subscribeOne(close, actual, connection);
		}
	}

	private void settle() {
		if (SETTLED.compareAndSet(this, false, true)) {
			this.causalRequest.pin().positionSettled();
		}
	}

	/**
	 * Commit, after the exchanges already admitted have ended; on a connection made for a
	 * transaction, no statement is admitted after it. If a statement of another tenant was
	 * refused inside the transaction, roll back instead and fail with
	 * {@link DataError.Kind#ROUTING_CONFLICT}. A connection lost while the commit is in flight
	 * fails with {@link DataError.Kind#OUTCOME_UNKNOWN}.
	 */
	@Override
	public Mono<Void> commitTransaction() {
		return Mono.defer(() -> {
			DataError conflict = (DataError) rollbackOnly();
			if (conflict != null) {
				return end(this.delegate::rollbackTransaction).onErrorMap(this::classify).then(Mono.error(conflict));
			}
			return end(this.delegate::commitTransaction).onErrorMap(failure -> {
				DataError error = ConnectionFailures.classifyInDoubt(this, failure, "the commit");
				if (error.kind() == DataError.Kind.OUTCOME_UNKNOWN) {
					inDoubt(error);
				}
				return error;
			});
		});
	}

	@Override
	public Batch createBatch() {
		if (!this.used) {
			this.used = true;
		}
		return new RoutedBatch(this.delegate.createBatch(), this);
	}

	@Override
	public Mono<Void> createSavepoint(String name) {
		return guard(this.delegate.createSavepoint(name));
	}

	@Override
	public Statement createStatement(String sql) {
		if (!this.used) {
			this.used = true;
		}
		return new RoutedStatement(this.delegate.createStatement(sql), this, sql);
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
	public IsolationLevel getTransactionIsolationLevel() {
		return this.delegate.getTransactionIsolationLevel();
	}

	@Override
	public Mono<Void> releaseSavepoint(String name) {
		return guard(this.delegate.releaseSavepoint(name));
	}

	/**
	 * Roll back, after the exchanges already admitted have ended; on a connection made for a
	 * transaction, no statement is admitted after it. After a commit whose outcome is unknown it
	 * sends nothing and fails with that commit's {@link DataError.Kind#OUTCOME_UNKNOWN}.
	 */
	@Override
	public Mono<Void> rollbackTransaction() {
		return Mono.defer(() -> {
			// Transaction managers roll back after a failed commit (Spring's does), and report the
			// rollback's failure instead: after a commit in doubt, the rollback says so.
			Object doubt = inDoubt();
			return doubt != null ? Mono.error((DataError) doubt)
					: end(this.delegate::rollbackTransaction).onErrorMap(this::classify);
		});
	}

	@Override
	public Mono<Void> rollbackTransactionToSavepoint(String name) {
		// After the savepoint's exchanges, as the end of a transaction.
		return whenQuiet(guard(this.delegate.rollbackTransactionToSavepoint(name)));
	}

	@Override
	public Mono<Void> setAutoCommit(boolean autoCommit) {
		return session(this.delegate.setAutoCommit(autoCommit));
	}

	@Override
	public Mono<Void> setLockWaitTimeout(Duration timeout) {
		return session(this.delegate.setLockWaitTimeout(timeout));
	}

	@Override
	public Mono<Void> setStatementTimeout(Duration timeout) {
		return session(this.delegate.setStatementTimeout(timeout));
	}

	@Override
	public Mono<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
		return session(this.delegate.setTransactionIsolationLevel(isolationLevel));
	}

	@Override
	public Mono<Boolean> validate(ValidationDepth depth) {
		// A pooled connection stays valid after close() because the pool keeps it; this one is not.
		return Mono.defer(() -> this.closed ? Mono.just(false) : session(this.delegate.validate(depth)));
	}

	@Override
	public Connection unwrap() {
		return this.delegate;
	}

	@Override
	public String toString() {
		return "RoutedConnection[tenant=" + this.tenancy.tenant + ", target=" + this.target.name() + "]";
	}
}
