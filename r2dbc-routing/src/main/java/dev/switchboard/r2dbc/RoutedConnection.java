package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataErrorClassifier;
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
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * A connection handed out by {@link RoutingConnectionFactory}: the pooled connection of one
 * target, which knows where it leads and classifies every database failure of itself, its
 * statements and its results as a {@link dev.switchboard.api.DataError} naming the tenant,
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

	final TenantId tenant;

	final RoutingListener listener;

	final ContextView context;

	/** Routed for a write, a transaction or an unknown intent: may leave a causal position. */
	private final boolean write;

	private volatile boolean closed;

	/** Whether a statement or batch was created: only then can a causal write have happened. */
	private volatile boolean used;

	private static final java.lang.invoke.VarHandle SETTLED;

	static {
		try {
			SETTLED = java.lang.invoke.MethodHandles.lookup().findVarHandle(RoutedConnection.class, "settled",
					boolean.class);
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

	RoutedConnection(DataSource.Target target, TenantId tenant, RoutingListener listener, ContextView context,
			boolean write) {
		this.target = target;
		this.tenant = tenant;
		this.listener = listener;
		this.context = context;
		this.write = write;
	}

	/**
	 * Take the pooled connection of {@link #target}: from here on this object is that connection.
	 * @param delegate the pooled connection
	 * @return this connection
	 */
	final RoutedConnection connected(Connection delegate) {
		this.delegate = delegate;
		if (this.write) {
			RoutingContext request = causalRequest(this.target, this.context);
			if (request != null) {
				this.causalRequest = request;
				request.pin().positionPending();
			}
		}
		return this;
	}

	private static @Nullable RoutingContext causalRequest(DataSource.Target target, ContextView context) {
		if (target.role() != Role.PRIMARY || target.dataSource().consistency() != ReadConsistency.CAUSAL
				|| !(target.dataSource() instanceof ReplicatedDataSource)) {
			return null;
		}
		return RoutingContext.find(context);
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
		return this.tenant;
	}

	Throwable classify(Throwable failure) {
		if (!DataErrorClassifier.isDataAccessFailure(failure)) {
			return failure;
		}
		DataError error = DataErrorClassifier.classify(failure, this.tenant, this.target.dataSource().name(),
				this.target.role());
		this.listener.failed(this.context, error);
		if (this.target.dataSource() instanceof ReplicatedDataSource replicated) {
			replicated.reportFailure(this.target, error);
		}
		return error;
	}

	/**
	 * An exchange of at most one answer, shielded from a cancel: it runs to its end, and the
	 * release waits for it.
	 */
	<T> Mono<T> guard(Publisher<T> publisher) {
		return CancelShield.one(publisher, this).onErrorMap(this::classify);
	}

	/**
	 * A statement's or batch's execution, shielded from a cancel: its results are read to their
	 * end, and the release waits for them.
	 */
	Flux<Result> execute(Publisher<? extends Result> results) {
		return CancelShield.results(results, this, this).onErrorMap(this::classify);
	}

	<T> Flux<T> guardMany(Publisher<T> publisher) {
		return Flux.from(publisher).onErrorMap(this::classify);
	}

	@Override
	public Mono<Void> beginTransaction() {
		return guard(this.delegate.beginTransaction());
	}

	@Override
	public Mono<Void> beginTransaction(TransactionDefinition definition) {
		return guard(this.delegate.beginTransaction(definition));
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
		Mono<Void> release = Mono.from(this.delegate.close()).doOnSubscribe(subscription -> this.closed = true);
		RoutingContext routing = this.causalRequest;
		if (routing != null) {
			ReplicatedDataSource replicated = (ReplicatedDataSource) this.target.dataSource();
			Mono<Void> capture = this.used && !this.closed
					? replicated.committedPosition(this.delegate)
							.doOnNext(position -> routing.pin().observe(CausalToken.of(replicated.name(), position)))
							.onErrorComplete()
							.then()
					: Mono.empty();
			// Settled before the caller hears of the release (doFinally would run after), so that
			// its next read already sees the token.
			release = capture.then(release).doOnTerminate(this::settle);
		}
		// Shielded: a release, once asked for, runs to its end even if its subscriber cancels. Not
		// counted as a drain: it is what waits for them.
		return CancelShield.one(whenQuiet(release), null).onErrorMap(this::classify);
	}

	private void settle() {
		if (SETTLED.compareAndSet(this, false, true)) {
			this.causalRequest.pin().positionSettled();
		}
	}

	@Override
	public Mono<Void> commitTransaction() {
		return guard(this.delegate.commitTransaction());
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
		return new RoutedStatement(this.delegate.createStatement(sql), this);
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

	@Override
	public Mono<Void> rollbackTransaction() {
		return guard(this.delegate.rollbackTransaction());
	}

	@Override
	public Mono<Void> rollbackTransactionToSavepoint(String name) {
		return guard(this.delegate.rollbackTransactionToSavepoint(name));
	}

	@Override
	public Mono<Void> setAutoCommit(boolean autoCommit) {
		return guard(this.delegate.setAutoCommit(autoCommit));
	}

	@Override
	public Mono<Void> setLockWaitTimeout(Duration timeout) {
		return guard(this.delegate.setLockWaitTimeout(timeout));
	}

	@Override
	public Mono<Void> setStatementTimeout(Duration timeout) {
		return guard(this.delegate.setStatementTimeout(timeout));
	}

	@Override
	public Mono<Void> setTransactionIsolationLevel(IsolationLevel isolationLevel) {
		return guard(this.delegate.setTransactionIsolationLevel(isolationLevel));
	}

	@Override
	public Mono<Boolean> validate(ValidationDepth depth) {
		// A pooled connection stays valid after close() because the pool keeps it; this one is not.
		return Mono.defer(() -> this.closed ? Mono.just(false) : guard(this.delegate.validate(depth)));
	}

	@Override
	public Connection unwrap() {
		return this.delegate;
	}

	@Override
	public String toString() {
		return "RoutedConnection[tenant=" + this.tenant + ", target=" + this.target.name() + "]";
	}
}
