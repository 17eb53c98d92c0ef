package dev.switchboard.r2dbc;

import java.util.ArrayList;
import java.util.List;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.Role;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;

/**
 * The connection pool of one server of a datasource, as listed by
 * {@link RoutingConnectionFactory#pools()}: which datasource, role and replica it serves, and its
 * gauges.
 *
 * <p>The {@link PoolMetrics} are r2dbc-pool's own view of the pool: each call to one of its methods
 * reads the pool's current state, so an instance can be kept and read again. Immutable and
 * thread-safe.
 *
 * @param dataSource the name of the datasource
 * @param role the role of the server
 * @param replicaIndex the position of the replica in the datasource's configuration, from 0; -1 for
 * the primary
 * @param name the name of the target and of its pool, {@code <datasource>/primary} or
 * {@code <datasource>/replica-<i>}
 * @param metrics the pool's gauges: acquired, idle, pending, allocated and their maxima
 */
public record TargetPool(String dataSource, Role role, int replicaIndex, String name, PoolMetrics metrics) {

	/**
	 * List the pools of every datasource of {@code registry}, in the registry's order, each
	 * datasource's primary before its replicas. A target whose connection factory is not an
	 * r2dbc-pool {@link ConnectionPool} with metrics is left out.
	 */
	static List<TargetPool> of(DataSourceRegistry registry) {
		List<TargetPool> pools = new ArrayList<>();
		for (DataSource dataSource : registry.dataSources()) {
			add(pools, dataSource.primary(), -1);
			List<DataSource.Target> replicas = dataSource.replicas();
			for (int i = 0; i < replicas.size(); i++) {
				add(pools, replicas.get(i), i);
			}
		}
		return List.copyOf(pools);
	}

	private static void add(List<TargetPool> pools, DataSource.Target target, int replicaIndex) {
		if (target.connectionFactory() instanceof ConnectionPool pool) {
			pool.getMetrics().ifPresent(metrics -> pools.add(new TargetPool(target.dataSource().name(), target.role(),
					replicaIndex, target.name(), metrics)));
		}
	}
}
