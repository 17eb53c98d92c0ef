package dev.switchboard.spring;

import java.time.Duration;
import java.util.function.ToDoubleFunction;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.PoolMetrics;

/**
 * Gauges of every pool: {@code switchboard.pool.acquired}, {@code .idle}, {@code .pending} and
 * {@code .max}, tagged with datasource and role, and the pool's name ({@code pg-main/replica-0});
 * and of every server's health as its datasource sees it: {@code switchboard.target.available}
 * (1 in rotation, 0 out: down or lagging) and {@code switchboard.target.lag} (seconds behind the
 * primary, NaN until measured), with the same tags.
 */
final class PoolMetricsBinder implements MeterBinder {

	private final DataSourceRegistry registry;

	PoolMetricsBinder(DataSourceRegistry registry) {
		this.registry = registry;
	}

	@Override
	public void bindTo(MeterRegistry meters) {
		for (DataSource dataSource : this.registry.dataSources()) {
			bind(meters, dataSource.primary());
			dataSource.replicas().forEach(replica -> bind(meters, replica));
		}
	}

	private static void bind(MeterRegistry meters, DataSource.Target target) {
		if (target.connectionFactory() instanceof ConnectionPool pool) {
			gauge(meters, "acquired", "Connections in use", pool, target, PoolMetrics::acquiredSize);
			gauge(meters, "idle", "Connections idle in the pool", pool, target, PoolMetrics::idleSize);
			gauge(meters, "pending", "Requests waiting for a connection", pool, target, PoolMetrics::pendingAcquireSize);
			gauge(meters, "max", "Most connections the pool may hold", pool, target, PoolMetrics::getMaxAllocatedSize);
		}
		tagged(Gauge.builder("switchboard.target.available", target, t -> t.status().available() ? 1 : 0)
				.description("1 when reads may go to the server, 0 when it is down or lagging"), target)
				.register(meters);
		tagged(Gauge.builder("switchboard.target.lag", target, t -> {
			Duration lag = t.status().lag();
			return lag == null ? Double.NaN : lag.toNanos() / 1e9;
		}).description("How far the server is behind its primary, as last measured").baseUnit("seconds"), target)
				.register(meters);
	}

	private static <T> Gauge.Builder<T> tagged(Gauge.Builder<T> gauge, DataSource.Target target) {
		return gauge.tag("datasource", target.dataSource().name()).tag("role", target.role().tag())
				.tag("pool", target.name());
	}

	private static void gauge(MeterRegistry meters, String name, String description, ConnectionPool pool,
			DataSource.Target target, ToDoubleFunction<PoolMetrics> value) {
		tagged(Gauge.builder("switchboard.pool." + name, pool,
						p -> p.getMetrics().map(value::applyAsDouble).orElse(Double.NaN))
				.description(description), target)
				.register(meters);
	}
}
