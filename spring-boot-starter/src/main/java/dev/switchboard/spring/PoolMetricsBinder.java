package dev.switchboard.spring;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TargetStatus;
import dev.switchboard.r2dbc.DirectoryListener;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.r2dbc.pool.ConnectionPool;
import org.springframework.boot.r2dbc.metrics.ConnectionPoolMetrics;

/**
 * Meters of every server: its pool through Boot's own {@link ConnectionPoolMetrics}
 * ({@code r2dbc.pool.acquired}, {@code .allocated}, {@code .idle}, {@code .pending},
 * {@code .max.allocated}, {@code .max.pending}, tagged {@code name} with the pool's name,
 * {@code pg-main/replica-0}, and with datasource and role), as Boot meters a plain R2DBC pool; and
 * its health as its datasource sees it: {@code switchboard.target.available} (1 in rotation, 0 out:
 * down or lagging) and {@code switchboard.target.lag} (seconds behind the primary, NaN until
 * measured), with the same tags.
 *
 * <p>Boot's binder takes the r2dbc-pool {@link ConnectionPool} itself, which is what each target's
 * connection factory is ({@code RoutingConnectionFactory.pools()} lists only the pools' gauges).
 *
 * <p>A datasource added to the tenant directory at runtime is metered as soon as it is added, one
 * removed loses its meters: this binder is a {@link DirectoryListener} of the directory. The
 * registry is asked for when meters are bound, not when this binder is built, since the directory
 * is built with its listeners. Thread-safe.
 */
final class PoolMetricsBinder implements MeterBinder, DirectoryListener {

	private final Supplier<DataSourceRegistry> registry;

	/** Every meter registry bound so far, for the datasources added later. */
	private final List<MeterRegistry> bound = new CopyOnWriteArrayList<>();

	PoolMetricsBinder(Supplier<DataSourceRegistry> registry) {
		this.registry = registry;
	}

	@Override
	public void bindTo(MeterRegistry meters) {
		this.bound.add(meters);
		for (DataSource dataSource : this.registry.get().dataSources()) {
			bind(meters, dataSource);
		}
	}

	@Override
	public void dataSourceAdded(String name) {
		if (this.bound.isEmpty()) {
			return;
		}
		for (DataSource dataSource : this.registry.get().dataSources()) {
			if (dataSource.name().equals(name)) {
				this.bound.forEach(meters -> bind(meters, dataSource));
			}
		}
	}

	@Override
	public void dataSourceRemoved(String name) {
		for (MeterRegistry meters : this.bound) {
			for (Meter meter : meters.getMeters()) {
				if (name.equals(meter.getId().getTag("datasource")) && (meter.getId().getName().startsWith("r2dbc.pool.")
						|| meter.getId().getName().startsWith("switchboard.target."))) {
					meters.remove(meter);
				}
			}
		}
	}

	private static void bind(MeterRegistry meters, DataSource dataSource) {
		bind(meters, dataSource.primary());
		dataSource.replicas().forEach(replica -> bind(meters, replica));
	}

	private static void bind(MeterRegistry meters, DataSource.Target target) {
		Tags tags = Tags.of("datasource", target.dataSource().name(), "role", target.role().tag());
		if (target.connectionFactory() instanceof ConnectionPool pool) {
			new ConnectionPoolMetrics(pool, target.name(), tags).bindTo(meters);
		}
		if (target.status() == TargetStatus.UNTRACKED) {
			// A datasource of an application's own that tracks no health: nothing to show.
			return;
		}
		Gauge.builder("switchboard.target.available", target, t -> t.status().available() ? 1 : 0)
				.description("1 when reads may go to the server, 0 when it is down or lagging")
				.tags(tags).tag("pool", target.name())
				.register(meters);
		Gauge.builder("switchboard.target.lag", target, t -> {
			Duration lag = t.status().lag();
			return lag == null ? Double.NaN : lag.toNanos() / 1e9;
		}).description("How far the server is behind its primary, as last measured").baseUnit("seconds")
				.tags(tags).tag("pool", target.name())
				.register(meters);
	}
}
