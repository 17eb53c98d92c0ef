package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.util.List;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * An R2DBC {@link ConnectionFactory} that routes each subscription to {@link #create()} to the pool
 * of the tenant's primary or of one of its replicas.
 *
 * <p>Each subscription is decided with the subscriber's Reactor Context, from three of its keys (the
 * routing context, a declared intent, a transaction binding):
 * <ol>
 * <li>the {@link RoutingContext} gives the tenant (without one, the registry's default tenant, or
 * a {@link DataError.Kind#MISSING_CONTEXT} error; one written for a bad tenant id or causal token
 * gives its {@link DataError.Kind#INVALID_TENANT_ID} or {@link DataError.Kind#INVALID_CAUSAL_TOKEN}
 * error);</li>
 * <li>the frozen {@link DataSourceRegistry} gives the tenant's datasource (or
 * {@link DataError.Kind#UNKNOWN_TENANT});</li>
 * <li>inside a {@link TransactionBinding} the primary is used, and another tenant is a
 * {@link DataError.Kind#ROUTING_CONFLICT};</li>
 * <li>otherwise the declared intent ({@link RoutingContext#intent}), through the request's
 * {@link dev.switchboard.api.ReadAfterWritePin}, chooses: a read goes to a replica, a write or an
 * undeclared intent to the primary;</li>
 * <li>a read skips replicas that are out of rotation or lagging (see {@link ReplicatedDataSource}),
 * and on a datasource in {@link ReadConsistency#CAUSAL} mode a read that must see the request's
 * {@link CausalToken} goes to a replica that has replayed it, else to the primary.</li>
 * </ol>
 * The decision takes no lock and allocates one object of its own: the hand-off, which subscribes
 * to the pool and is also the {@link RoutedConnection} it hands the caller. A read whose replica
 * fails to connect is sent once to another replica (or the primary) by the same object, and the
 * failed replica leaves the rotation. Measured in docs/BENCHMARKS.md.
 *
 * <p>Connections are returned as {@link RoutedConnection}s: every failure of the connection, its
 * statements and results leaves as a {@link DataError} naming the tenant, datasource and role. It
 * works for plain R2DBC, Spring's {@code DatabaseClient} and jOOQ alike.
 *
 * <p>{@link #getMetadata()} reports the metadata of the datasources' primaries when they all run the
 * same product; when tenants are on different engines (PostgreSQL and MariaDB, say) it reports
 * the name {@value #MIXED_NAME} followed by the product names, because no single dialect fits:
 * tools that choose a dialect from the metadata must then ask per tenant, as the jOOQ integration
 * does.
 *
 * <p>Closing the factory disposes the registry and so every pool, once. Thread-safe.
 */
public final class RoutingConnectionFactory implements ConnectionFactory, Disposable, Closeable {

	/** The product name reported by {@link #getMetadata()} for mixed engines. */
	public static final String MIXED_NAME = "Switchboard routing";

	private final TenantDirectory directory;

	private final @Nullable TenantId defaultTenant;

	private final RouteMono create;

	private final ConnectionFactoryMetadata metadata;

	private final IntentView reads;

	private final IntentView writes;

	private final RoutingListener listener;

	/** Joins the transactions bound by a manager outside Switchboard, or {@code null} for none. */
	private final @Nullable BoundTransactionJoin bound;

	/**
	 * Create a routing factory over a frozen registry.
	 * @param registry the tenant registry; disposed with this factory if it is {@link Disposable}
	 */
	public RoutingConnectionFactory(DataSourceRegistry registry) {
		this(registry, RoutingListener.NONE);
	}

	/**
	 * Create a routing factory over a frozen registry that reports its decisions.
	 * @param registry the tenant registry; disposed with this factory if it is {@link Disposable}
	 * @param listener told of every decision and routing failure
	 */
	public RoutingConnectionFactory(DataSourceRegistry registry, RoutingListener listener) {
		this(registry, listener, null);
	}

	/**
	 * Create a routing factory over a frozen registry that reports its decisions and joins the
	 * transactions a transaction manager outside Switchboard bound to it: inside one, every
	 * connection requested from this factory (or its intent views) is the transaction's own,
	 * whose close is left to the transaction; a request for another tenant fails with
	 * {@link DataError.Kind#ROUTING_CONFLICT}; once one has ended, what its work still requests
	 * fails with {@link DataError#transactionEnded}. The Spring Boot starter passes Spring's.
	 * @param registry the tenant registry; disposed with this factory if it is {@link Disposable}
	 * @param listener told of every decision and routing failure
	 * @param bound finds the connection of such a transaction, or {@code null} for none
	 */
	public RoutingConnectionFactory(DataSourceRegistry registry, RoutingListener listener,
			@Nullable BoundTransactions bound) {
		this.directory = TenantDirectory.over(registry);
		this.listener = listener;
		this.bound = bound != null ? new BoundTransactionJoin(this, bound) : null;
		this.defaultTenant = registry.defaultTenant();
		this.metadata = RoutingMetadata.of(registry);
		this.create = new RouteMono(this, null, null);
		this.reads = new IntentView(this, AccessIntent.READ);
		this.writes = new IntentView(this, AccessIntent.WRITE);
	}

	/**
	 * Return a connection to the target chosen for the subscribing pipeline.
	 * <p>A cancel does not reach the pool: the acquisition runs out and a connection that arrives
	 * after the cancel goes straight back to its pool. One that arrives while the cancel is on its
	 * way reaches the subscriber, which must release it, as {@code Flux.usingWhen} does.
	 * @return a {@code Mono} of a {@link RoutedConnection}, or a {@link DataError}
	 */
	@Override
	public Mono<Connection> create() {
		return RouteMono.assemble(this.create);
	}

	/**
	 * Return a view of this factory that routes as if every pipeline had declared {@code intent},
	 * unless it declares another with {@link RoutingContext#intent}. The pin, the transaction
	 * binding and every error behave as in {@link #create()}. The two views are built once;
	 * closing a view does nothing.
	 * @param intent the intent assumed when none is declared
	 * @return the view for that intent
	 */
	public ConnectionFactory forIntent(AccessIntent intent) {
		return intent == AccessIntent.READ ? this.reads : this.writes;
	}

	/**
	 * Return a connection for a statement whose intent the caller inferred, routed with the context
	 * of the subscriber the caller serves. For adapters that learn a statement's intent only after
	 * they handed out a connection, such as the jOOQ integration. A declared intent in the context
	 * still wins over the inferred one.
	 * @param context the subscriber's context
	 * @param inferred the statement's intent, or {@code null} if unknown (the primary)
	 * @return a {@code Mono} of a {@link RoutedConnection}, or a {@link DataError}
	 */
	public Mono<Connection> create(ContextView context, @Nullable AccessIntent inferred) {
		return RouteMono.assemble(new RouteMono(this, context, inferred));
	}

	/**
	 * Return a connection to the primary for a transaction about to begin, with the context of the
	 * subscriber the caller serves: a declared read intent cannot send a transaction to a replica.
	 * The pin is tripped, and the tenant and transaction checks of {@link #create()} apply.
	 * @param context the subscriber's context
	 * @return a {@code Mono} of a {@link RoutedConnection} to the primary, or a {@link DataError}
	 */
	public Mono<Connection> createForTransaction(ContextView context) {
		return RouteMono.assemble(new RouteMono.ForTransaction(this, context));
	}

	/**
	 * Resolve a pipeline's tenant, its datasource and the transaction it runs in, as routing does,
	 * for adapters that need them before they ask for a connection (the jOOQ facade). It has
	 * routing's effects: a failure is reported to this factory's {@link RoutingListener}, as the
	 * factory's own are (the caller still emits it), and a conflict makes the pipeline's
	 * transaction rollback-only. To look without effects, use {@link TenantResolution#peek}.
	 * @param context the subscriber's context
	 * @return the resolution, whose {@link TenantResolution#failure()} says why it cannot be routed
	 */
	public TenantResolution resolve(ContextView context) {
		TenantResolution resolved = TenantResolution.resolve(context, this.directory, this.defaultTenant);
		DataError failure = resolved.failure();
		if (failure != null) {
			reportRoutingFailure(context, failure);
		}
		return resolved;
	}

	/** The decision: see the class's documentation. */
	void route(CoreSubscriber<? super Connection> actual, ContextView context, @Nullable AccessIntent defaultIntent,
			boolean transaction) {
		TenantResolution resolved = TenantResolution.resolve(context, this.directory, this.defaultTenant);
		DataError failure = resolved.failure();
		if (failure != null) {
			fail(actual, context, failure);
			return;
		}
		RoutingContext routing = resolved.routing();
		Tenancy tenancy = resolved.tenancy();
		TenantId tenant = tenancy.tenant;
		DataSource dataSource = tenancy.dataSource;
		TransactionBinding binding = resolved.transaction();
		if (this.bound != null && this.bound.join(actual, context, tenant, dataSource, binding != null || transaction)) {
			return;
		}
		// The connection's lease on the tenant's placement, returned when its release starts. Refused
		// while the placement drains (the tenant moved or left): the new snapshot is out, look again.
		int ticket = tenancy.lease();
		if (ticket < 0) {
			route(actual, context, defaultIntent, transaction);
			return;
		}
		if (binding != null || transaction) {
			if (routing != null) {
				routing.pin().trip();
			}
			handOff(actual, context, tenancy, dataSource.primary(), RoutingListener.Reason.PRIMARY_TRANSACTION,
					transaction || binding.isBeginning() ? RoutedConnection.Use.TRANSACTION : RoutedConnection.Use.WRITE);
			return;
		}
		AccessIntent declared = RoutingContext.findDeclaredIntent(context);
		if (declared == null) {
			declared = defaultIntent;
		}
		if (declared == AccessIntent.READ && routing != null && dataSource instanceof Replicated replicated) {
			CausalReads causal = replicated.causalReads();
			CausalToken token = causal != null ? routing.pin().token() : null;
			// While a write's connection is out, its position is not in the token yet: pinned.
			if (token != null && token.dataSource().equals(dataSource.name()) && !routing.pin().isPositionPending()) {
				routeCausal(actual, context, tenancy, causal, token);
				return;
			}
		}
		AccessIntent effective = routing != null
				? routing.pin().apply(declared)
				: (declared == AccessIntent.READ ? AccessIntent.READ : AccessIntent.WRITE);
		DataSource.Target target;
		try {
			// Spread (Fibonacci hashing, the high bits): a tenant that alternates writes and reads
			// would otherwise send every read, all with odd tickets, to the same one of two replicas.
			target = dataSource.select(effective, (int) ((ticket * 0x9E3779B97F4A7C15L) >>> 33));
		}
		catch (RuntimeException thrown) {
			tenancy.release();
			throw thrown;
		}
		if (target == null) {
			tenancy.release();
			fail(actual, context, DataError.noHealthyTarget(tenant, dataSource.name(), Role.REPLICA, null));
			return;
		}
		RoutingListener.Reason reason = reason(declared, effective, target, dataSource);
		handOff(actual, context, tenancy, target, reason,
				reason == RoutingListener.Reason.PRIMARY_WRITE ? RoutedConnection.Use.WRITE
						: reason == RoutingListener.Reason.REPLICA && dataSource instanceof Replicated
								? RoutedConnection.Use.READ_WITH_FAILOVER
								: RoutedConnection.Use.READ);
	}

	/**
	 * Tell the listener of a decision, then ask the target's pool for a connection that the
	 * hand-off passes to the subscriber: where every decision ends.
	 */
	private void handOff(CoreSubscriber<? super Connection> actual, ContextView context, Tenancy tenancy,
			DataSource.Target target, RoutingListener.Reason reason, RoutedConnection.Use use) {
		Publisher<? extends Connection> pool;
		try {
			this.listener.routed(context, tenancy.tenant, target, reason);
			pool = target.connectionFactory().create();
		}
		catch (RuntimeException failure) {
			// Before the hand-off holds the lease, it is the caller's to give back.
			tenancy.release();
			throw failure;
		}
		pool.subscribe(new HandOff(actual, context, tenancy, target, this.listener, use));
	}

	/**
	 * A read that must see {@code token}: a replica known to have replayed it, or one that replays
	 * it within the datasource's causal wait on the connection just taken, else the primary.
	 * Connections taken for a wait that fails are closed, also when the subscriber cancels.
	 */
	private void routeCausal(CoreSubscriber<? super Connection> actual, ContextView context, Tenancy tenancy,
			CausalReads causal, CausalToken token) {
		CausalReads.Candidate candidate = causal.select(token.position());
		if (candidate == null) {
			handOff(actual, context, tenancy, tenancy.dataSource.primary(), RoutingListener.Reason.PRIMARY_CAUSAL,
					RoutedConnection.Use.READ);
		}
		else if (candidate.covered()) {
			handOff(actual, context, tenancy, candidate.target(), RoutingListener.Reason.REPLICA_CAUSAL,
					RoutedConnection.Use.READ);
		}
		else {
			actual.onSubscribe(new CausalWait(this, actual, context, tenancy, causal, candidate.target(), token));
		}
	}

	private static RoutingListener.Reason reason(@Nullable AccessIntent declared, AccessIntent effective,
			DataSource.Target target, DataSource dataSource) {
		if (declared != AccessIntent.READ) {
			return RoutingListener.Reason.PRIMARY_WRITE;
		}
		if (effective == AccessIntent.WRITE) {
			return RoutingListener.Reason.PRIMARY_PINNED;
		}
		if (target.role() == Role.REPLICA) {
			return RoutingListener.Reason.REPLICA;
		}
		return dataSource.replicas().isEmpty()
				? RoutingListener.Reason.PRIMARY_NO_REPLICA
				: RoutingListener.Reason.PRIMARY_NO_HEALTHY_REPLICA;
	}

	/** Report a routing failure, then emit it: where every refusal of a connection request ends. */
	void fail(CoreSubscriber<? super Connection> actual, ContextView context, DataError error) {
		reportRoutingFailure(context, error);
		Operators.error(actual, error);
	}

	/**
	 * Report a pipeline that could not be routed to this factory's {@link RoutingListener}, as a
	 * routing failure of this factory's own is: for adapters that resolve the routing context
	 * themselves before they ask for a connection, such as the jOOQ facade, so that metrics count
	 * every routing failure once. The caller still emits the error itself.
	 * @param context the subscriber's context
	 * @param error the routing error, of a kind that {@link DataError.Kind#isRouting() is routing}
	 */
	public void reportRoutingFailure(ContextView context, DataError error) {
		this.listener.failed(context, error);
	}

	/**
	 * Return a connection to {@code target}, bypassing the decision, for tools that address one
	 * server on purpose (health checks, migrations, tests).
	 * @param target a target of a registered datasource
	 * @param tenant the tenant named in errors
	 * @return a {@code Mono} of a {@link RoutedConnection}
	 */
	public Mono<Connection> connect(DataSource.Target target, TenantId tenant) {
		return connect(target, Tenancy.uncounted(tenant, target.dataSource()), Context.empty());
	}

	/**
	 * {@link #connect(DataSource.Target, TenantId)} for a subscriber's context; the connection holds
	 * {@code tenancy}'s lease, taken by the caller.
	 */
	Mono<Connection> connect(DataSource.Target target, Tenancy tenancy, ContextView context) {
		return RouteMono.assemble(new RouteMono.ToTarget(this, context, target, tenancy));
	}

	/** Hand {@code actual} a connection to {@code target}, bypassing the decision. */
	void connect(CoreSubscriber<? super Connection> actual, ContextView context, DataSource.Target target,
			Tenancy tenancy) {
		target.connectionFactory().create()
				.subscribe(new HandOff(actual, context, tenancy, target, this.listener, RoutedConnection.Use.READ));
	}

	/** The listener told of decisions and failures. */
	RoutingListener listener() {
		return this.listener;
	}

	/**
	 * Return the registry this factory routes with: its {@link #directory()}.
	 * @return the registry
	 */
	public DataSourceRegistry registry() {
		return this.directory;
	}

	/**
	 * Return the directory this factory routes through, whose tenants and datasources may change at
	 * runtime; over a frozen {@link TenantRegistry}, one that started with its tenants.
	 * @return the directory
	 */
	public TenantDirectory directory() {
		return this.directory;
	}

	/**
	 * Return the connection pool of every server this factory routes to, with its gauges, so that
	 * metrics and health pages need not keep the datasources at hand. Read-only: the list cannot be
	 * changed, and nothing in it changes a pool.
	 * @return an immutable list, by datasource in the registry's order, each primary before its
	 * replicas; a server not pooled by r2dbc-pool is not in it
	 */
	public List<TargetPool> pools() {
		return TargetPool.of(this.directory);
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.metadata;
	}

	/**
	 * Dispose the registry, and with it every pool, once.
	 * @return a {@code Mono} that completes when every pool is disposed
	 */
	public Mono<Void> disposeLater() {
		return this.directory.disposeLater();
	}

	@Override
	public void dispose() {
		disposeLater().block();
	}

	@Override
	public boolean isDisposed() {
		return this.directory.isDisposed();
	}

	/**
	 * Same as {@link #dispose()}.
	 */
	@Override
	public void close() {
		dispose();
	}

	@Override
	public String toString() {
		return "RoutingConnectionFactory[" + this.directory + "]";
	}
}
