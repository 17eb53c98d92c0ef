package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

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
 */
public final class ReplicatedDataSource implements DataSource, Disposable, Closeable {

	private static final AtomicIntegerFieldUpdater<ReplicatedDataSource> NEXT_REPLICA =
			AtomicIntegerFieldUpdater.newUpdater(ReplicatedDataSource.class, "nextReplica");

	private final String name;

	private final PoolTarget primary;

	private final PoolTarget[] replicaArray;

	private final List<Target> replicas;

	private final Mono<Void> dispose;

	private volatile int nextReplica;

	private volatile boolean disposed;

	private ReplicatedDataSource(Builder builder) {
		this.name = builder.name;
		this.primary = new PoolTarget(this, Role.PRIMARY, this.name + "/primary",
				pool(builder, builder.primary, this.name + "/primary"));
		this.replicaArray = new PoolTarget[builder.replicas.size()];
		for (int i = 0; i < this.replicaArray.length; i++) {
			String replicaName = this.name + "/replica-" + i;
			this.replicaArray[i] = new PoolTarget(this, Role.REPLICA, replicaName,
					pool(builder, builder.replicas.get(i), replicaName));
		}
		this.replicas = List.of(this.replicaArray);
		this.dispose = disposeAll().cache();
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
	public Target select(AccessIntent intent) {
		PoolTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length == 0) {
			return this.primary;
		}
		if (candidates.length == 1) {
			return candidates[0];
		}
		// The mask keeps the index non-negative when the counter wraps around.
		int ticket = NEXT_REPLICA.getAndIncrement(this) & Integer.MAX_VALUE;
		return candidates[ticket % candidates.length];
	}

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

	private static final class PoolTarget implements Target {

		private final ReplicatedDataSource dataSource;

		private final Role role;

		private final String name;

		private final ConnectionPool pool;

		PoolTarget(ReplicatedDataSource dataSource, Role role, String name, ConnectionPool pool) {
			this.dataSource = dataSource;
			this.role = role;
			this.name = name;
			this.pool = pool;
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

		private Builder(String name) {
			this.name = Names.requireValid("datasource name", name);
		}

		/**
		 * Set the primary from an R2DBC URL.
		 * @param url for example {@code r2dbc:postgresql://user@host:5432/db}
		 * @return this builder
		 * @throws IllegalArgumentException if no driver understands the URL
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
		 * @throws IllegalArgumentException if no driver understands the URL
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
		 * Build the datasource and its pools.
		 * @return the datasource
		 * @throws IllegalStateException if no primary was set
		 */
		public ReplicatedDataSource build() {
			if (this.primary == null) {
				throw new IllegalStateException("datasource '" + this.name + "' has no primary");
			}
			return new ReplicatedDataSource(this);
		}

		private ConnectionFactory connectionFactory(String setting, String url) {
			if (url == null || url.isBlank()) {
				throw new IllegalArgumentException(setting + " URL of datasource '" + this.name + "' must not be blank");
			}
			try {
				return ConnectionFactories.get(url);
			}
			catch (RuntimeException ex) {
				throw new IllegalArgumentException(setting + " URL of datasource '" + this.name + "' is not usable: "
						+ Names.redact(url) + " (" + ex.getMessage() + ")", ex);
			}
		}
	}
}
