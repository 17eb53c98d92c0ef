package dev.switchboard.r2dbc.test;

import java.time.Duration;

import dev.switchboard.api.DataSource;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;

/**
 * Builds datasources over the topology for integration tests.
 */
public final class Fixtures {

	private Fixtures() {
	}

	/**
	 * Build a datasource of {@code engine}'s primary and the given replicas.
	 * @param name the datasource name
	 * @param engine the engine
	 * @param maxSize the maximum size of each pool
	 * @param replicas the replicas, in round-robin order
	 * @return the datasource; the caller disposes it
	 */
	public static ReplicatedDataSource dataSource(String name, Topology.Engine engine, int maxSize,
			Topology.Server... replicas) {
		return dataSource(name, engine, Topology.DATABASE, maxSize, replicas);
	}

	/**
	 * Build a datasource of one database on {@code engine}'s primary and the given replicas.
	 * @param name the datasource name
	 * @param engine the engine
	 * @param database the database
	 * @param maxSize the maximum size of each pool
	 * @param replicas the replicas, in round-robin order
	 * @return the datasource; the caller disposes it
	 */
	public static ReplicatedDataSource dataSource(String name, Topology.Engine engine, String database, int maxSize,
			Topology.Server... replicas) {
		ReplicatedDataSource.Builder builder = ReplicatedDataSource.builder(name)
				.primary(engine.url(engine.primary(), database))
				.pool(pool -> pool.initialSize(0).maxSize(maxSize).maxAcquireTime(Duration.ofSeconds(10)));
		for (Topology.Server replica : replicas) {
			builder.replica(engine.url(replica, database));
		}
		return builder.build();
	}

	/**
	 * Return the number of connections currently acquired from all pools of a datasource.
	 * @param dataSource the datasource
	 * @return the acquired connections
	 */
	public static int acquired(ReplicatedDataSource dataSource) {
		int acquired = acquired(dataSource.pool(dataSource.primary()));
		for (DataSource.Target replica : dataSource.replicas()) {
			acquired += acquired(dataSource.pool(replica));
		}
		return acquired;
	}

	private static int acquired(ConnectionPool pool) {
		return pool.getMetrics().map(PoolMetrics::acquiredSize).orElseThrow();
	}
}
