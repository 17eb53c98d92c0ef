package dev.switchboard.benchmarks;

import java.util.List;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;

/**
 * A {@link DataSource} whose targets are {@link ReadyConnectionFactory ready factories} instead of
 * pools, so that routing over it costs what the routing costs and nothing more.
 *
 * <p>It selects like {@link dev.switchboard.r2dbc.ReplicatedDataSource}: a write, or any statement
 * when there is no replica, goes to the primary; a read goes to the replicas by lock-free
 * round-robin over one atomic counter, or by the routing factory's ticket (the tenant's lease
 * count) when it passes one. {@code ReplicatedDataSource} itself is not used because it
 * wraps every factory in an r2dbc-pool {@code ConnectionPool}, whose acquire would dominate the
 * measurement. Thread-safe.
 */
final class ReadyDataSource implements DataSource {

	private static final AtomicIntegerFieldUpdater<ReadyDataSource> NEXT_REPLICA =
			AtomicIntegerFieldUpdater.newUpdater(ReadyDataSource.class, "nextReplica");

	private final String name;

	private final ReadyTarget primary;

	private final ReadyTarget[] replicaArray;

	private final List<Target> replicas;

	private volatile int nextReplica;

	/**
	 * Create a datasource of a primary and {@code replicaCount} replicas, each with its own ready
	 * factory over the shared {@code connection}.
	 * @param name the datasource name
	 * @param replicaCount how many replicas, {@code >= 0}
	 * @param connection the connection every factory hands out
	 */
	ReadyDataSource(String name, int replicaCount, Connection connection) {
		if (replicaCount < 0) {
			throw new IllegalArgumentException("replicaCount must be >= 0, was " + replicaCount);
		}
		this.name = name;
		this.primary = new ReadyTarget(this, Role.PRIMARY, name + "/primary", new ReadyConnectionFactory(connection));
		this.replicaArray = new ReadyTarget[replicaCount];
		for (int i = 0; i < replicaCount; i++) {
			this.replicaArray[i] = new ReadyTarget(this, Role.REPLICA, name + "/replica-" + i,
					new ReadyConnectionFactory(connection));
		}
		this.replicas = List.of(this.replicaArray);
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
		ReadyTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length < 2) {
			return select(intent, 0);
		}
		// The mask keeps the index non-negative when the counter wraps around.
		return select(intent, NEXT_REPLICA.getAndIncrement(this) & Integer.MAX_VALUE);
	}

	@Override
	public Target select(AccessIntent intent, int ticket) {
		ReadyTarget[] candidates = this.replicaArray;
		if (intent == AccessIntent.WRITE || candidates.length == 0) {
			return this.primary;
		}
		return candidates.length == 1 ? candidates[0] : candidates[ticket % candidates.length];
	}

	@Override
	public String toString() {
		return "ReadyDataSource[" + this.name + ", replicas=" + this.replicaArray.length + "]";
	}

	/** One server of a {@link ReadyDataSource}. */
	private record ReadyTarget(DataSource dataSource, Role role, String name, ConnectionFactory connectionFactory)
			implements Target {

		@Override
		public String toString() {
			return this.name;
		}
	}
}
