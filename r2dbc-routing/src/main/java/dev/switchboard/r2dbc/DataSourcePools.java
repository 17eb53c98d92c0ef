package dev.switchboard.r2dbc;

import java.util.List;
import java.util.function.BiFunction;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;

/**
 * Builds the pools of a {@link ReplicatedDataSource}, all or none. {@code new ConnectionPool} asks
 * its factory for a first {@code create()} publisher, and a driver may throw there on a bad
 * setting (r2dbc-postgresql's {@code port out of range}): that failure is reported naming the
 * setting, and the pools already built for the datasource are disposed, not left running.
 */
final class DataSourcePools {

	private DataSourcePools() {
	}

	/**
	 * Build one pool per factory, each named {@code <datasource>/primary} or
	 * {@code <datasource>/replica-<i>}.
	 * @param dataSource the datasource's name
	 * @param factories the primary's factory, then the replicas'
	 * @param pool builds the pool of a factory under a name; returns the factory itself when it
	 * already is a pool, which is then never disposed here
	 * @return the pools, in the order of the factories
	 * @throws IllegalArgumentException naming the setting ({@code primary}, {@code replicas[i]}) whose
	 * pool could not be built
	 */
	static ConnectionPool[] create(String dataSource, List<ConnectionFactory> factories,
			BiFunction<ConnectionFactory, String, ConnectionPool> pool) {
		ConnectionPool[] pools = new ConnectionPool[factories.size()];
		for (int i = 0; i < pools.length; i++) {
			String poolName = dataSource + (i == 0 ? "/primary" : "/replica-" + (i - 1));
			try {
				pools[i] = pool.apply(factories.get(i), poolName);
			}
			catch (RuntimeException ex) {
				for (int built = 0; built < i; built++) {
					if (pools[built] != factories.get(built)) {
						pools[built].dispose();
					}
				}
				String setting = i == 0 ? "primary" : "replicas[" + (i - 1) + "]";
				throw new IllegalArgumentException(setting + " of datasource '" + dataSource
						+ "' cannot be pooled: " + ex.getMessage(), ex);
			}
		}
		return pools;
	}
}
