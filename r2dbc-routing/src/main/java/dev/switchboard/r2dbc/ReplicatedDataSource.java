package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.Role;
import dev.switchboard.api.TargetStatus;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * A {@link DataSource} of one primary pool and zero or more replica pools, each an r2dbc-pool
 * {@link ConnectionPool} named {@code <datasource>/primary} or {@code <datasource>/replica-<i>}.
 *
 * <pre class="code">
 * ReplicatedDataSource orders = ReplicatedDataSource.builder("orders-pg")
 *     .primary("r2dbc:postgresql://db1:5432/orders")
 *     .replica("r2dbc:postgresql://db2:5432/orders")
 *     .username("app")
 *     .password(secrets::currentOrdersPassword) // asked for each new connection
 *     .pool(pool -&gt; pool.maxSize(20).maxAcquireTime(Duration.ofSeconds(2)))
 *     .build();
 * </pre>
 *
 * <p>Reads are spread over the replicas by lock-free round-robin (one atomic counter); with no
 * replica, reads go to the primary. The pools are built when the datasource is built and disposed
 * exactly once by {@link #disposeLater()}. Thread-safe.
 *
 * <h2>Health, lag and causal reads</h2>
 * <ul>
 * <li>A server that fails to connect, times out, or goes away (shutdown, killed connection) is
 * taken out of rotation at once; reads go to the next available replica, then to the primary
 * ({@link Builder#readsFallBackToPrimary(boolean)}), else the router fails with
 * {@link DataError.Kind#NO_HEALTHY_TARGET}. A background probe, on Reactor's
 * parallel scheduler and never blocking, tries it again after a backoff that doubles from
 * {@link Builder#probeInterval(Duration) the probe interval} up to 30 s, and puts it back when it
 * answers.</li>
 * <li>With {@link Builder#maxReplicationLag(Duration)} or {@link ReadConsistency#CAUSAL}, every
 * probe reads the primary's position and each replica's replayed position. A replica's lag is the
 * age of the oldest primary position it has not replayed yet (0 when it has replayed the latest);
 * a replica beyond the maximum lag is skipped until it catches up.</li>
 * <li>In {@link ReadConsistency#CAUSAL} mode, a connection to the primary that ran statements
 * leaves the primary's position after its commit in the request's
 * {@link dev.switchboard.api.CausalToken}; a later read goes to a replica known to have replayed
 * it, or to one that reaches it within {@link Builder#causalWait(Duration)}, else to the primary.</li>
 * </ul>
 * The routing decision reads one volatile flag per replica; the probe and failures write them.
 */
public final class ReplicatedDataSource implements DataSource, Replicated, AsyncDisposable, Closeable {

	private static final AtomicIntegerFieldUpdater<ReplicatedDataSource> NEXT_REPLICA =
			AtomicIntegerFieldUpdater.newUpdater(ReplicatedDataSource.class, "nextReplica");

	private final String name;

	private final ServerTarget primary;

	private final ServerTarget[] replicaArray;

	private final List<Target> replicas;

	private final ReadConsistency consistency;

	private final boolean readsFallBackToPrimary;

	private final @Nullable CausalReads causalReads;

	private final ReplicaProbe probe;

	private final Mono<Void> dispose;

	private volatile int nextReplica;

	private volatile boolean disposed;

	ReplicatedDataSource(ReplicatedDataSourceBuilder builder) {
		this.name = builder.name;
		List<ConnectionFactory> factories = new ArrayList<>(builder.replicas.size() + 1);
		factories.add(builder.required("primary", builder.primary).connectionFactory(this.name, builder.credentials));
		for (ServerSetting replica : builder.replicas) {
			factories.add(replica.connectionFactory(this.name, builder.credentials));
		}
		ConnectionPool[] pools = DataSourcePools.create(this.name, factories, builder.poolCustomizer);
		this.primary = new ServerTarget(this, Role.PRIMARY, this.name + "/primary", pools[0], builder.probeInterval);
		this.replicaArray = new ServerTarget[builder.replicas.size()];
		for (int i = 0; i < this.replicaArray.length; i++) {
			this.replicaArray[i] = new ServerTarget(this, Role.REPLICA, this.name + "/replica-" + i, pools[i + 1],
					builder.probeInterval);
		}
		this.replicas = List.of(this.replicaArray);
		this.consistency = builder.consistency;
		this.readsFallBackToPrimary = builder.readsFallBackToPrimary;
		Replication.Detected replication = new Replication.Detected();
		boolean causal = this.consistency == ReadConsistency.CAUSAL;
		this.causalReads = causal ? new CausalReads(this.replicaArray, builder.causalWait, replication) : null;
		this.probe = new ReplicaProbe(this.primary, this.replicaArray, builder.probeInterval,
				builder.maxReplicationLag, builder.maxReplicationLag != null || causal, replication);
		this.dispose = Mono.fromRunnable(this.probe::dispose).then(disposeAll()).cache();
	}

	/**
	 * Start building a datasource.
	 * @param name the logical name, referenced by tenants; 1 to 64 characters from
	 * {@code [A-Za-z0-9._-]}
	 * @return a new builder
	 * @throws IllegalArgumentException if the name is not valid
	 */
	public static Builder builder(String name) {
		return new Builder(name);
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public Target primary() {
		return this.primary;
	}

	@Override
	public List<Target> replicas() {
		return this.replicas;
	}

	@Override
	public @Nullable Target select(AccessIntent intent) {
		ServerTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length < 2) {
			return select(intent, 0);
		}
		// The mask keeps the index non-negative when the counter wraps around.
		return select(intent, NEXT_REPLICA.getAndIncrement(this) & Integer.MAX_VALUE);
	}

	@Override
	public @Nullable Target select(AccessIntent intent, int ticket) {
		ServerTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length == 0) {
			return this.primary;
		}
		if (candidates.length == 1) {
			return candidates[0].available ? candidates[0] : fallBack();
		}
		for (int i = 0; i < candidates.length; i++) {
			ServerTarget candidate = candidates[(ticket + i) % candidates.length];
			if (candidate.available) {
				return candidate;
			}
		}
		return fallBack();
	}

	private @Nullable Target fallBack() {
		return this.readsFallBackToPrimary && this.primary.isUp() ? this.primary : null;
	}

	@Override
	public ReadConsistency consistency() {
		return this.consistency;
	}

	@Override
	public @Nullable CausalReads causalReads() {
		return this.causalReads;
	}

	/** The probe, for tests that drive its rounds. */
	ReplicaProbe probe() {
		return this.probe;
	}

	/**
	 * Return what this datasource knows of a target's health: the same as
	 * {@link Target#status()}.
	 * @param target a target of this datasource
	 * @return its status
	 * @throws IllegalArgumentException if the target belongs to another datasource
	 */
	public TargetStatus status(Target target) {
		return own(target).status();
	}

	/**
	 * Return the pool of a target of this datasource, for metrics and health.
	 * @param target a target returned by this datasource
	 * @return its pool
	 * @throws IllegalArgumentException if the target belongs to another datasource
	 */
	public ConnectionPool pool(Target target) {
		return own(target).pool();
	}

	private ServerTarget own(Target target) {
		if (target instanceof ServerTarget server && server.dataSource() == this) {
			return server;
		}
		throw new IllegalArgumentException("target " + target.name() + " does not belong to datasource " + this.name);
	}

	/**
	 * Dispose every pool of this datasource, once. A failure to dispose one pool does not stop the
	 * others; the first failure is emitted with the later ones added as suppressed.
	 * @return a {@code Mono} that completes when all pools are disposed; subscribing again replays
	 * the outcome without disposing anything twice
	 */
	@Override
	public Mono<Void> disposeLater() {
		this.disposed = true;
		return this.dispose;
	}

	private Mono<Void> disposeAll() {
		List<ServerTarget> targets = new ArrayList<>(this.replicaArray.length + 1);
		targets.add(this.primary);
		targets.addAll(List.of(this.replicaArray));
		return Disposal.each(targets, target -> target.pool().disposeLater()
				.onErrorMap(failure -> new IllegalStateException("failed to dispose pool " + target.name(), failure)));
	}

	/**
	 * Dispose every pool, waiting for it. Prefer {@link #disposeLater()} on a Reactor thread.
	 */
	@Override
	public void dispose() {
		disposeLater().block();
	}

	@Override
	public boolean isDisposed() {
		return this.disposed;
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
		return "ReplicatedDataSource[" + this.name + ", replicas=" + this.replicaArray.length + "]";
	}

	/**
	 * Builds a {@link ReplicatedDataSource}. Each method checks its own argument; {@link #build()}
	 * checks the combination. Not thread-safe.
	 */
	public static final class Builder extends ReplicatedDataSourceBuilder {

		// The methods are in ReplicatedDataSourceBuilder, its package-private superclass in a file of
		// its own; they return this type, so code written against it compiles unchanged.
		private Builder(String name) {
			super(name);
		}
	}
}
