package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import reactor.core.publisher.Mono;

/**
 * Builds the pools of a {@link ReplicatedDataSource}, all or none, each with a reset of the
 * connections it takes back. {@code new ConnectionPool} asks
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
	 * @param factories the primary's factory, then the replicas'; a factory that already is a pool is
	 * used as it is, and never disposed here
	 * @param customizer applied to each pool's configuration before its name is set
	 * @return the pools, in the order of the factories
	 * @throws IllegalArgumentException naming the setting ({@code primary}, {@code replicas[i]}) whose
	 * pool could not be built
	 */
	static ConnectionPool[] create(String dataSource, List<ConnectionFactory> factories,
			Consumer<ConnectionPoolConfiguration.Builder> customizer) {
		ConnectionPool[] pools = new ConnectionPool[factories.size()];
		for (int i = 0; i < pools.length; i++) {
			String poolName = dataSource + (i == 0 ? "/primary" : "/replica-" + (i - 1));
			try {
				pools[i] = pool(factories.get(i), poolName, customizer);
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

	private static ConnectionPool pool(ConnectionFactory factory, String poolName,
			Consumer<ConnectionPoolConfiguration.Builder> customizer) {
		if (factory instanceof ConnectionPool pool) {
			return pool;
		}
		ConnectionPoolConfiguration.Builder configuration = ConnectionPoolConfiguration.builder(factory)
				.name(poolName)
				.maxAcquireTime(Duration.ofSeconds(5))
				.maxCreateConnectionTime(Duration.ofSeconds(5))
				.preRelease(DataSourcePools::resetBeforeRelease);
		customizer.accept(configuration);
		return new ConnectionPool(configuration.name(poolName).build());
	}

	/**
	 * A connection goes back to its pool without the transaction its last user left open (a
	 * savepoint, auto-commit switched off, a cancelled pipeline): otherwise the next request, maybe
	 * another tenant's on a shared datasource, would run inside it and hold its locks.
	 */
	private static Mono<Void> resetBeforeRelease(Connection connection) {
		if (connection.isAutoCommit()) {
			return Mono.empty();
		}
		return Mono.from(connection.rollbackTransaction()).then(Mono.from(connection.setAutoCommit(true)));
	}
}
