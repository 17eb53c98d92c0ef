package dev.switchboard.spring;

import java.time.Duration;
import java.util.function.Consumer;

import io.r2dbc.pool.ConnectionPoolConfiguration;

/**
 * Checks the {@code switchboard.datasources.<name>.pool.*} settings of one datasource and applies
 * them to r2dbc-pool's configuration builder, setting by setting as Boot maps
 * {@code spring.r2dbc.pool.*}.
 *
 * <p>Checked here rather than left to r2dbc-pool, whose builder throws only when the datasource's
 * pools are built, with a message that names its own argument, not the key.
 */
final class PoolSettings {

	private PoolSettings() {
	}

	/**
	 * Check {@code pool} and return the customizer that applies it.
	 * @param key the key of the datasource, {@code switchboard.datasources.<name>}
	 * @param pool the settings as bound
	 * @return the customizer of each of the datasource's pools
	 * @throws SwitchboardConfigurationException naming the first setting that cannot work
	 */
	static Consumer<ConnectionPoolConfiguration.Builder> customizer(String key, SwitchboardProperties.Pool pool) {
		String prefix = key + ".pool.";
		if (pool.maxSize() < 1) {
			throw new SwitchboardConfigurationException(prefix + "max-size", "must be >= 1, was " + pool.maxSize());
		}
		if (pool.initialSize() < 0 || pool.initialSize() > pool.maxSize()) {
			throw new SwitchboardConfigurationException(prefix + "initial-size",
					"must be between 0 and max-size (" + pool.maxSize() + "), was " + pool.initialSize());
		}
		if (pool.minIdle() < 0 || pool.minIdle() > pool.maxSize()) {
			throw new SwitchboardConfigurationException(prefix + "min-idle",
					"must be between 0 and max-size (" + pool.maxSize() + "), was " + pool.minIdle());
		}
		if (pool.acquireRetry() < 0) {
			throw new SwitchboardConfigurationException(prefix + "acquire-retry", "must be >= 0, was " + pool.acquireRetry());
		}
		positive(prefix + "max-acquire-time", pool.maxAcquireTime());
		positive(prefix + "max-create-connection-time", pool.maxCreateConnectionTime());
		positive(prefix + "max-idle-time", pool.maxIdleTime());
		positive(prefix + "max-life-time", pool.maxLifeTime());
		positive(prefix + "max-validation-time", pool.maxValidationTime());
		positive(prefix + "background-eviction-interval", pool.backgroundEvictionInterval());
		return configuration -> {
			configuration.maxSize(pool.maxSize()).initialSize(pool.initialSize()).minIdle(pool.minIdle())
					.maxAcquireTime(pool.maxAcquireTime()).maxCreateConnectionTime(pool.maxCreateConnectionTime())
					.maxIdleTime(pool.maxIdleTime()).acquireRetry(pool.acquireRetry())
					.validationDepth(pool.validationDepth());
			if (pool.maxLifeTime() != null) {
				configuration.maxLifeTime(pool.maxLifeTime());
			}
			if (pool.maxValidationTime() != null) {
				configuration.maxValidationTime(pool.maxValidationTime());
			}
			if (pool.backgroundEvictionInterval() != null) {
				configuration.backgroundEvictionInterval(pool.backgroundEvictionInterval());
			}
			if (pool.validationQuery() != null && !pool.validationQuery().isBlank()) {
				configuration.validationQuery(pool.validationQuery());
			}
		};
	}

	private static void positive(String key, Duration value) {
		if (value != null && (value.isNegative() || value.isZero())) {
			throw new SwitchboardConfigurationException(key, "must be positive, was " + value);
		}
	}
}
