package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Consumer;
import java.util.function.Supplier;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Names;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.Role;
import dev.switchboard.api.TargetStatus;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
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

	private ReplicatedDataSource(Builder builder) {
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
	public static final class Builder {

		private final String name;

		private @Nullable ServerSetting primary;

		private final List<ServerSetting> replicas = new ArrayList<>();

		private Credentials credentials = Credentials.NONE;

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
			this.primary = ConnectionUrls.server(this.name, "primary", url);
			return this;
		}

		/**
		 * Set the primary from a connection factory; it is wrapped in a pool unless it is one.
		 * @param factory the factory that reaches the primary
		 * @return this builder
		 */
		public Builder primary(ConnectionFactory factory) {
			this.primary = ServerSetting.ofFactory("primary", required("primary", factory));
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
			this.replicas.add(ConnectionUrls.server(this.name, "replicas[" + this.replicas.size() + "]", url));
			return this;
		}

		/**
		 * Add a replica from a connection factory; it is wrapped in a pool unless it is one.
		 * @param factory the factory that reaches the replica
		 * @return this builder
		 */
		public Builder replica(ConnectionFactory factory) {
			String setting = "replicas[" + this.replicas.size() + "]";
			this.replicas.add(ServerSetting.ofFactory(setting, required(setting, factory)));
			return this;
		}

		/**
		 * Set the user of the servers given by URL, in place of the URLs' own; servers given as
		 * connection factories keep theirs.
		 * @param username the user, not blank
		 * @return this builder
		 */
		public Builder username(String username) {
			if (username == null || username.isBlank()) {
				throw new InvalidSettingException(this.name, "username", "must not be blank");
			}
			this.credentials = this.credentials.withUser(username);
			return this;
		}

		/**
		 * Set a fixed password of the servers given by URL, in place of the URLs' own. Any character
		 * is fine (a password inside a URL must be percent-encoded). Never shown in messages.
		 * @param password the password, perhaps empty
		 * @return this builder
		 */
		public Builder password(CharSequence password) {
			this.credentials = this.credentials.withPassword(required("password", password));
			return this;
		}

		/**
		 * Ask the password of the servers given by URL again for each new physical connection, so
		 * that a rotated password applies without a restart; open connections stay as they are.
		 * The driver calls the supplier on its own thread, often an event loop: it must not block
		 * (keep the current secret in memory, refreshed elsewhere, or give a {@code Publisher}). A
		 * supplier that throws fails that connection with its exception as the cause; one that
		 * returns {@code null} fails it naming the datasource. Supported by r2dbc-postgresql and
		 * r2dbc-mysql; other drivers are refused by {@link #build()}.
		 * @param password asked once per new connection
		 * @return this builder
		 */
		public Builder password(Supplier<? extends CharSequence> password) {
			this.credentials = this.credentials.withPassword(required("password", password));
			return this;
		}

		/**
		 * Like {@link #password(Supplier)}, from a publisher subscribed to once per new physical
		 * connection (its first element is the password): for a secret fetched without blocking.
		 * A publisher that replays one value, such as {@code Mono.just}, gives a fixed password.
		 * @param password subscribed to once per new connection
		 * @return this builder
		 */
		public Builder password(Publisher<? extends CharSequence> password) {
			this.credentials = this.credentials.withPassword(required("password", password));
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
			this.poolCustomizer = required("pool customizer", customizer);
			return this;
		}

		/**
		 * Choose how the reads of a request that has written are served.
		 * @param consistency {@link ReadConsistency#PIN} (the default) or {@link ReadConsistency#CAUSAL}
		 * @return this builder
		 */
		public Builder consistency(ReadConsistency consistency) {
			this.consistency = required("consistency", consistency);
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
				throw new InvalidSettingException(this.name, "max-replication-lag", "must be positive, was " + maxLag);
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
				throw new InvalidSettingException(this.name, "causal-wait", "must be from 0 to 10s, was " + wait);
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
				throw new InvalidSettingException(this.name, "probe-interval", "must be from 10ms to 1m, was " + interval);
			}
			this.probeInterval = interval;
			return this;
		}

		/**
		 * Whether reads go to the primary when no replica is available (the default), or fail with
		 * {@link DataError.Kind#NO_HEALTHY_TARGET}.
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
		 * built (no pool is left running then), or if a user or password is set and no server was
		 * given by URL, or a password asked per connection and a URL's driver cannot ask
		 */
		public ReplicatedDataSource build() {
			ServerSetting primarySetting = this.primary;
			if (primarySetting == null) {
				throw new IllegalStateException("datasource '" + this.name + "' has no primary");
			}
			if (!this.credentials.isEmpty() && !primarySetting.fromUrl()
					&& this.replicas.stream().noneMatch(ServerSetting::fromUrl)) {
				throw new InvalidSettingException(this.name, "username/password", "apply to servers given by URL, and "
						+ "this datasource has none: set them on its connection factories");
			}
			return new ReplicatedDataSource(this);
		}

		private <T> T required(String setting, @Nullable T value) {
			if (value == null) {
				throw new InvalidSettingException(this.name, setting, "must not be null");
			}
			return value;
		}

	}
}
