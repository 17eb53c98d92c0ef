package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.Role;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.ValidationDepth;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A {@link DataSource} of one primary pool and zero or more replica pools, each an r2dbc-pool
 * {@link ConnectionPool} named {@code <datasource>/primary} or {@code <datasource>/replica-<i>}.
 *
 * <pre class="code">
 * ReplicatedDataSource orders = ReplicatedDataSource.builder("orders-pg")
 *     .primary("r2dbc:postgresql://postgres@db1:5432/orders")
 *     .replica("r2dbc:postgresql://postgres@db2:5432/orders")
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
 * {@link dev.switchboard.api.DataError.Kind#NO_HEALTHY_TARGET}. A background probe, on Reactor's
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
public final class ReplicatedDataSource implements DataSource, Disposable, Closeable {

	private static final AtomicIntegerFieldUpdater<ReplicatedDataSource> NEXT_REPLICA =
			AtomicIntegerFieldUpdater.newUpdater(ReplicatedDataSource.class, "nextReplica");

	private final String name;

	private final PoolTarget primary;

	private final PoolTarget[] replicaArray;

	private final List<Target> replicas;

	private final Mono<Void> dispose;

	private final ReadConsistency consistency;

	private final @Nullable Duration maxReplicationLag;

	private final Duration causalWait;

	private final Duration probeInterval;

	private final boolean readsFallBackToPrimary;

	private final PrimaryHistory history = new PrimaryHistory();

	private final Disposable probe;

	private volatile @Nullable Replication replication;

	private volatile boolean replicationKnown;

	private volatile int nextReplica;

	private volatile boolean disposed;

	private ReplicatedDataSource(Builder builder) {
		this.name = builder.name;
		List<ConnectionFactory> factories = new ArrayList<>(builder.replicas.size() + 1);
		factories.add(builder.primary);
		factories.addAll(builder.replicas);
		ConnectionPool[] pools = DataSourcePools.create(this.name, factories, (factory, poolName) -> pool(builder, factory, poolName));
		this.primary = new PoolTarget(this, Role.PRIMARY, this.name + "/primary", pools[0]);
		this.replicaArray = new PoolTarget[builder.replicas.size()];
		for (int i = 0; i < this.replicaArray.length; i++) {
			this.replicaArray[i] = new PoolTarget(this, Role.REPLICA, this.name + "/replica-" + i, pools[i + 1]);
		}
		this.replicas = List.of(this.replicaArray);
		this.consistency = builder.consistency;
		this.maxReplicationLag = builder.maxReplicationLag;
		this.causalWait = builder.causalWait;
		this.probeInterval = builder.probeInterval;
		this.readsFallBackToPrimary = builder.readsFallBackToPrimary;
		this.probe = Flux.interval(this.probeInterval, Schedulers.parallel())
				.onBackpressureDrop()
				.concatMap(tick -> probeOnce().onErrorResume(failure -> Mono.empty()), 1)
				.subscribe();
		this.dispose = Mono.fromRunnable(this.probe::dispose).then(disposeAll()).cache();
	}

	private static ConnectionPool pool(Builder builder, ConnectionFactory factory, String poolName) {
		if (factory instanceof ConnectionPool pool) {
			return pool;
		}
		ConnectionPoolConfiguration.Builder configuration = ConnectionPoolConfiguration.builder(factory)
				.name(poolName)
				.maxAcquireTime(Duration.ofSeconds(5))
				.maxCreateConnectionTime(Duration.ofSeconds(5))
				.preRelease(ReplicatedDataSource::resetBeforeRelease);
		builder.poolCustomizer.accept(configuration);
		return new ConnectionPool(configuration.name(poolName).build());
	}

	/**
	 * A connection goes back to its pool without the transaction its last user left open (a
	 * savepoint, auto-commit switched off, a cancelled pipeline): otherwise the next request, maybe
	 * another tenant's on a shared datasource, would run inside it and hold its locks.
	 */
	private static Mono<Void> resetBeforeRelease(io.r2dbc.spi.Connection connection) {
		if (connection.isAutoCommit()) {
			return Mono.empty();
		}
		return Mono.from(connection.rollbackTransaction()).then(Mono.from(connection.setAutoCommit(true)));
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
		PoolTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length == 0) {
			return this.primary;
		}
		if (candidates.length == 1) {
			return candidates[0].available ? candidates[0] : fallBack();
		}
		// The mask keeps the index non-negative when the counter wraps around.
		int ticket = NEXT_REPLICA.getAndIncrement(this) & Integer.MAX_VALUE;
		for (int i = 0; i < candidates.length; i++) {
			PoolTarget candidate = candidates[(ticket + i) % candidates.length];
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

	/**
	 * Return the replica for a read that must see {@code wanted}: one known to have replayed it, else
	 * one whose last measured lag makes it likely to reach it within the causal wait (the caller
	 * then waits on it), else {@code null} for the primary.
	 * @param wanted the request's position
	 * @return the replica and whether it is known to cover the position, or {@code null}
	 */
	@Nullable CausalCandidate selectCausal(ReplicationPosition wanted) {
		PoolTarget[] candidates = this.replicaArray;
		if (candidates.length == 0) {
			return null;
		}
		int ticket = NEXT_REPLICA.getAndIncrement(this) & Integer.MAX_VALUE;
		PoolTarget waitable = null;
		for (int i = 0; i < candidates.length; i++) {
			PoolTarget candidate = candidates[(ticket + i) % candidates.length];
			if (!candidate.available) {
				continue;
			}
			ReplicationPosition replayed = candidate.position;
			if (replayed != null && replayed.covers(wanted)) {
				return new CausalCandidate(candidate, true);
			}
			if (waitable == null && !this.causalWait.isZero() && candidate.lagNanos <= this.causalWait.toNanos()) {
				waitable = candidate;
			}
		}
		return waitable != null ? new CausalCandidate(waitable, false) : null;
	}

	/**
	 * A replica chosen for a causal read.
	 * @param target the replica
	 * @param covered whether the probe already saw it replay the wanted position
	 */
	record CausalCandidate(Target target, boolean covered) {
	}

	/**
	 * Wait, at most the causal wait, for a replica's connection to replay {@code wanted}, and
	 * remember what the replica reported.
	 * @param drains counts the wait's queries that a cancel leaves running, for the release
	 * @return {@code true} when the replica covers the position
	 */
	Mono<Boolean> awaitPosition(Target target, Connection connection, ReplicationPosition wanted, Drains drains) {
		PoolTarget replica = own(target);
		return replication(connection)
				.flatMap(engine -> engine.await(connection, wanted, this.causalWait, drains))
				.doOnNext(replayed -> replica.position = replayed)
				.hasElement();
	}

	/**
	 * Return the position of the primary after the last commit of a connection to it, for the
	 * request's causal token.
	 * @param connection a connection to this datasource's primary that ran statements
	 * @return the position, or empty when the engine has none or the session wrote nothing
	 */
	Mono<ReplicationPosition> committedPosition(Connection connection) {
		return replication(connection).flatMap(engine -> engine.committedPosition(connection));
	}

	private Mono<Replication> replication(Connection connection) {
		if (!this.replicationKnown) {
			this.replication = Replication.of(connection);
			this.replicationKnown = true;
		}
		return Mono.justOrEmpty(this.replication);
	}

	/**
	 * Take a target out of rotation if {@code failure} says that its server is unreachable or going
	 * away; failures of single statements leave it alone.
	 * @param target a target of this datasource
	 * @param failure the failure seen on it
	 * @return {@code true} if the target was taken out of rotation by this call
	 */
	boolean reportFailure(Target target, Throwable failure) {
		if (!DataErrorClassifier.isTargetFailure(failure) || !(target instanceof PoolTarget pooled)
				|| pooled.dataSource != this) {
			return false;
		}
		boolean changed = pooled.markDown(System.nanoTime() + this.probeInterval.toNanos());
		if (changed) {
			RotationLog.down(pooled, failure);
		}
		return changed;
	}

	/**
	 * Return what this datasource knows of a target's health, for health indicators and tests.
	 * @param target a target of this datasource
	 * @return its status
	 * @throws IllegalArgumentException if the target belongs to another datasource
	 */
	public TargetStatus status(Target target) {
		PoolTarget pooled = own(target);
		long lag = pooled.lagNanos;
		return new TargetStatus(pooled.isUp(), pooled.lagging, lag < 0 ? null : Duration.ofNanos(lag), pooled.position);
	}

	/**
	 * What a datasource knows of one of its servers.
	 * @param up whether it answered the last connection or probe
	 * @param lagging whether it is beyond the maximum replication lag
	 * @param lag its last measured lag, or {@code null} if not measured
	 * @param position its last known replayed (replica) or current (primary) position, or
	 * {@code null}
	 */
	public record TargetStatus(boolean up, boolean lagging, @Nullable Duration lag,
			@Nullable ReplicationPosition position) {

		/**
		 * Tell whether reads may go to this server.
		 * @return {@code true} when it is up and not lagging
		 */
		public boolean available() {
			return this.up && !this.lagging;
		}
	}

	private PoolTarget own(Target target) {
		if (target instanceof PoolTarget pooled && pooled.dataSource == this) {
			return pooled;
		}
		throw new IllegalArgumentException("target " + target.name() + " does not belong to datasource " + this.name);
	}

	// ------------------------------------------------------------------------------- the probe

	/**
	 * One round of the probe: servers out of rotation whose backoff has passed are tried again;
	 * when lag is tracked, the primary's position is sampled first and then every replica's.
	 */
	Mono<Void> probeOnce() {
		boolean trackLag = this.maxReplicationLag != null || this.consistency == ReadConsistency.CAUSAL;
		long now = System.nanoTime();
		Mono<Void> primaryRound = this.primary.due(now) || (trackLag && this.primary.isUp() && this.replicaArray.length > 0)
				? probe(this.primary, trackLag)
				: Mono.empty();
		List<Mono<Void>> replicaRounds = new ArrayList<>(this.replicaArray.length);
		for (PoolTarget replica : this.replicaArray) {
			if (replica.due(now) || (trackLag && replica.isUp())) {
				replicaRounds.add(probe(replica, trackLag));
			}
		}
		return primaryRound.then(Mono.when(replicaRounds));
	}

	private Mono<Void> probe(PoolTarget target, boolean trackLag) {
		Duration timeout = this.probeInterval.multipliedBy(2).compareTo(Duration.ofSeconds(1)) > 0
				? this.probeInterval.multipliedBy(2)
				: Duration.ofSeconds(1);
		// The round's timeout cancels it: its acquisition, its queries and its release are shielded
		// (CancelShield), and the release waits for the queries that a cancel leaves running.
		Drains drains = new Drains();
		Mono<Void> round = Mono.usingWhen(CancelShield.acquire(target.pool.create()),
				connection -> look(target, connection, trackLag, drains),
				connection -> CancelShield.one(drains.whenQuiet(Mono.from(connection.close())), null));
		// A request that lost its connection after the round began knows better than the round's
		// answer, which may predate the loss: the next round decides.
		int downsBefore = target.downs;
		return round.timeout(timeout)
				.doOnSuccess(ignored -> target.markUpUnlessDownSince(downsBefore))
				.onErrorResume(failure -> {
					if (!target.isUp()) {
						target.backOff(System.nanoTime(), this.probeInterval);
					}
					else if (DataErrorClassifier.isTargetFailure(failure)
							&& target.markDown(System.nanoTime() + this.probeInterval.toNanos())) {
						RotationLog.down(target, failure);
					}
					return Mono.empty();
				});
	}

	private Mono<Void> look(PoolTarget target, Connection connection, boolean trackLag, Drains drains) {
		if (!trackLag) {
			return CancelShield.one(connection.validate(ValidationDepth.REMOTE), drains)
					.flatMap(valid -> valid ? Mono.<Void>empty()
							: Mono.error(new R2dbcNonTransientResourceException(target.name + " is not valid")));
		}
		return replication(connection).flatMap(engine -> {
			long sampled = System.nanoTime();
			if (target.role == Role.PRIMARY) {
				return engine.primaryPosition(connection, drains).doOnNext(position -> {
					target.position = position;
					this.history.add(sampled, position);
				});
			}
			return engine.replayedPosition(connection, drains)
					.defaultIfEmpty(EMPTY)
					.doOnNext(position -> {
						ReplicationPosition replayed = position == EMPTY ? null : position;
						target.position = replayed;
						long lag = this.history.lag(replayed, sampled);
						target.lagNanos = lag;
						boolean lagging = this.maxReplicationLag != null && lag > this.maxReplicationLag.toNanos();
						if (lagging != target.lagging) {
							if (lagging) {
								RotationLog.lagging(target, lag, this.maxReplicationLag);
							}
							else if (target.isUp()) {
								RotationLog.up(target);
							}
						}
						target.lagging = lagging;
						target.refresh();
					});
		}).then();
	}

	/** Stands for "no position yet" where Reactor wants a value. */
	private static final ReplicationPosition EMPTY = ReplicationPosition.parse("0/0");

	/**
	 * Return the pool of a target of this datasource, for metrics and health.
	 * @param target a target returned by this datasource
	 * @return its pool
	 * @throws IllegalArgumentException if the target belongs to another datasource
	 */
	public ConnectionPool pool(Target target) {
		if (target instanceof PoolTarget pooled && pooled.dataSource == this) {
			return pooled.pool;
		}
		throw new IllegalArgumentException("target " + target.name() + " does not belong to datasource " + this.name);
	}

	/**
	 * Dispose every pool of this datasource, once. A failure to dispose one pool does not stop the
	 * others; the first failure is emitted with the later ones added as suppressed.
	 * @return a {@code Mono} that completes when all pools are disposed; subscribing again replays
	 * the outcome without disposing anything twice
	 */
	public Mono<Void> disposeLater() {
		this.disposed = true;
		return this.dispose;
	}

	private Mono<Void> disposeAll() {
		List<PoolTarget> targets = new ArrayList<>(this.replicaArray.length + 1);
		targets.add(this.primary);
		targets.addAll(List.of(this.replicaArray));
		return Disposal.each(targets, target -> target.pool.disposeLater()
				.onErrorMap(failure -> new IllegalStateException("failed to dispose pool " + target.name, failure)));
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

	private static final long MAX_BACKOFF_NANOS = Duration.ofSeconds(30).toNanos();

	private static final AtomicIntegerFieldUpdater<PoolTarget> UP =
			AtomicIntegerFieldUpdater.newUpdater(PoolTarget.class, "upState");

	private static final AtomicIntegerFieldUpdater<PoolTarget> DOWNS =
			AtomicIntegerFieldUpdater.newUpdater(PoolTarget.class, "downs");

	private static final class PoolTarget implements Target {

		private final ReplicatedDataSource dataSource;

		private final Role role;

		private final String name;

		private final ConnectionPool pool;

		/** Up and not lagging: the only field the routing decision reads. */
		volatile boolean available = true;

		/** 1 when up, 0 when out of rotation; changed by compare-and-set. */
		volatile int upState = 1;

		/** How many times it was taken out of rotation: a probe round ignores its own answer if this moved. */
		volatile int downs;

		volatile boolean lagging;

		/** The last position seen: replayed by a replica, current on the primary. */
		volatile @Nullable ReplicationPosition position;

		/** The last measured lag, or -1. */
		volatile long lagNanos = -1;

		/** When the probe may try a server that is down, by {@link System#nanoTime()}. */
		private volatile long retryAt;

		/** The backoff of the next failed probe. */
		private volatile long backoffNanos;

		PoolTarget(ReplicatedDataSource dataSource, Role role, String name, ConnectionPool pool) {
			this.dataSource = dataSource;
			this.role = role;
			this.name = name;
			this.pool = pool;
		}

		/** Take this server out of rotation; {@code true} if this call did it. Lock-free. */
		boolean markDown(long retryAt) {
			DOWNS.incrementAndGet(this);
			boolean changed = UP.compareAndSet(this, 1, 0);
			if (changed) {
				this.retryAt = retryAt;
				this.backoffNanos = 0;
			}
			// Even when another thread won: a refresh racing with the probe's must not leave it on.
			refresh();
			return changed;
		}

		void markUp() {
			if (UP.compareAndSet(this, 0, 1)) {
				this.backoffNanos = 0;
				if (!this.lagging) {
					RotationLog.up(this);
				}
			}
			refresh();
		}

		/**
		 * Put this server back in rotation for a probe round that began when {@link #downs} was
		 * {@code before}, unless a failure was reported since: the round's answer may predate it.
		 */
		void markUpUnlessDownSince(int before) {
			if (this.downs != before) {
				return;
			}
			markUp();
			// A failure reported while this marked it up wins.
			if (this.downs != before && UP.compareAndSet(this, 1, 0)) {
				refresh();
			}
		}

		/** Called by the probe only, one round at a time. */
		void backOff(long now, Duration interval) {
			long next = this.backoffNanos == 0 ? interval.toNanos() * 2 : this.backoffNanos * 2;
			this.backoffNanos = Math.min(next, MAX_BACKOFF_NANOS);
			this.retryAt = now + this.backoffNanos;
		}

		boolean isUp() {
			return this.upState == 1;
		}

		boolean due(long now) {
			return !isUp() && now - this.retryAt >= 0;
		}

		void refresh() {
			this.available = isUp() && !this.lagging;
		}

		@Override
		public DataSource dataSource() {
			return this.dataSource;
		}

		@Override
		public Role role() {
			return this.role;
		}

		@Override
		public String name() {
			return this.name;
		}

		@Override
		public ConnectionFactory connectionFactory() {
			return this.pool;
		}

		@Override
		public String toString() {
			return this.name;
		}
	}

	/**
	 * Builds a {@link ReplicatedDataSource}. Each method checks its own argument; {@link #build()}
	 * checks the combination. Not thread-safe.
	 */
	public static final class Builder {

		private final String name;

		private @Nullable ConnectionFactory primary;

		private final List<ConnectionFactory> replicas = new ArrayList<>();

		private Consumer<ConnectionPoolConfiguration.Builder> poolCustomizer = pool -> {
		};

		private ReadConsistency consistency = ReadConsistency.PIN;

		private @Nullable Duration maxReplicationLag;

		private Duration causalWait = Duration.ofMillis(100);

		private Duration probeInterval = Duration.ofSeconds(1);

		private boolean readsFallBackToPrimary = true;

		private Builder(String name) {
			this.name = Names.requireValid("datasource name", name);
		}

		/**
		 * Set the primary from an R2DBC URL.
		 * @param url for example {@code r2dbc:postgresql://user@host:5432/db}
		 * @return this builder
		 * @throws IllegalArgumentException if the URL is blank, its host is empty, its port is not a
		 * number from 1 to 65535, or no driver understands it
		 */
		public Builder primary(String url) {
			return primary(connectionFactory("primary", url));
		}

		/**
		 * Set the primary from a connection factory; it is wrapped in a pool unless it is one.
		 * @param factory the factory that reaches the primary
		 * @return this builder
		 */
		public Builder primary(ConnectionFactory factory) {
			if (factory == null) {
				throw new IllegalArgumentException("primary of datasource '" + this.name + "' must not be null");
			}
			this.primary = factory;
			return this;
		}

		/**
		 * Add a replica from an R2DBC URL.
		 * @param url for example {@code r2dbc:postgresql://user@replica:5432/db}
		 * @return this builder
		 * @throws IllegalArgumentException as {@link #primary(String)} does, naming
		 * {@code replicas[<i>]}
		 */
		public Builder replica(String url) {
			return replica(connectionFactory("replicas[" + this.replicas.size() + "]", url));
		}

		/**
		 * Add a replica from a connection factory; it is wrapped in a pool unless it is one.
		 * @param factory the factory that reaches the replica
		 * @return this builder
		 */
		public Builder replica(ConnectionFactory factory) {
			if (factory == null) {
				throw new IllegalArgumentException("replicas[" + this.replicas.size() + "] of datasource '"
						+ this.name + "' must not be null");
			}
			this.replicas.add(factory);
			return this;
		}

		/**
		 * Customize every pool of this datasource; the pool's name is set afterwards and cannot be
		 * changed. By default the pools take r2dbc-pool's defaults, with 5 s to acquire and to
		 * create a connection, and a {@code preRelease} that rolls back a transaction left open and
		 * restores auto-commit before a connection goes back to its pool.
		 * @param customizer applied to each pool's configuration builder
		 * @return this builder
		 */
		public Builder pool(Consumer<ConnectionPoolConfiguration.Builder> customizer) {
			if (customizer == null) {
				throw new IllegalArgumentException("pool customizer of datasource '" + this.name + "' must not be null");
			}
			this.poolCustomizer = customizer;
			return this;
		}

		/**
		 * Choose how the reads of a request that has written are served.
		 * @param consistency {@link ReadConsistency#PIN} (the default) or {@link ReadConsistency#CAUSAL}
		 * @return this builder
		 */
		public Builder consistency(ReadConsistency consistency) {
			if (consistency == null) {
				throw new IllegalArgumentException("consistency of datasource '" + this.name + "' must not be null");
			}
			this.consistency = consistency;
			return this;
		}

		/**
		 * Skip replicas whose measured lag is beyond {@code maxLag}; without it, lag is not measured
		 * (unless the consistency is causal) and no replica is skipped for lag.
		 * @param maxLag a positive duration, or {@code null} for no limit
		 * @return this builder
		 */
		public Builder maxReplicationLag(@Nullable Duration maxLag) {
			if (maxLag != null && (maxLag.isNegative() || maxLag.isZero())) {
				throw new IllegalArgumentException("max-replication-lag of datasource '" + this.name
						+ "' must be positive, was " + maxLag);
			}
			this.maxReplicationLag = maxLag;
			return this;
		}

		/**
		 * How long a causal read may wait for a replica to replay the request's writes before it
		 * goes to the primary. 100 ms by default; zero sends it to the primary unless the probe
		 * already saw a replica replay them.
		 * @param wait zero or a positive duration, at most 10 s
		 * @return this builder
		 */
		public Builder causalWait(Duration wait) {
			if (wait == null || wait.isNegative() || wait.compareTo(Duration.ofSeconds(10)) > 0) {
				throw new IllegalArgumentException("causal-wait of datasource '" + this.name
						+ "' must be from 0 to 10s, was " + wait);
			}
			this.causalWait = wait;
			return this;
		}

		/**
		 * How often the background probe runs: it measures lag, when tracked, and tries servers out
		 * of rotation again. 1 s by default.
		 * @param interval from 10 ms to 1 minute
		 * @return this builder
		 */
		public Builder probeInterval(Duration interval) {
			if (interval == null || interval.compareTo(Duration.ofMillis(10)) < 0
					|| interval.compareTo(Duration.ofMinutes(1)) > 0) {
				throw new IllegalArgumentException("probe-interval of datasource '" + this.name
						+ "' must be from 10ms to 1m, was " + interval);
			}
			this.probeInterval = interval;
			return this;
		}

		/**
		 * Whether reads go to the primary when no replica is available (the default), or fail with
		 * {@link dev.switchboard.api.DataError.Kind#NO_HEALTHY_TARGET}.
		 * @param fallBack {@code true} to let the primary serve reads
		 * @return this builder
		 */
		public Builder readsFallBackToPrimary(boolean fallBack) {
			this.readsFallBackToPrimary = fallBack;
			return this;
		}

		/**
		 * Build the datasource and its pools.
		 * @return the datasource
		 * @throws IllegalStateException if no primary was set
		 * @throws IllegalArgumentException naming the setting, if a factory fails while its pool is
		 * built (no pool is left running then)
		 */
		public ReplicatedDataSource build() {
			if (this.primary == null) {
				throw new IllegalStateException("datasource '" + this.name + "' has no primary");
			}
			return new ReplicatedDataSource(this);
		}

		private ConnectionFactory connectionFactory(String setting, String url) {
			return ConnectionUrls.connectionFactory(this.name, setting, url);
		}

	}
}
