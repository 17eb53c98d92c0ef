package dev.switchboard.spring;

import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.RoutingListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import reactor.util.context.ContextView;

/**
 * Counts routing decisions in Micrometer: {@code switchboard.routing.decisions} tagged with tenant,
 * datasource, role and reason, and {@code switchboard.routing.errors} tagged with the error kind, one counter per kind
 * registered when the listener is built, so each reads 0 before its first error.
 *
 * <p>Counters are created on first use and then looked up in a concurrent map, so the hot path
 * does not go through Micrometer's registry. Thread-safe.
 */
final class MicrometerRoutingListener implements RoutingListener {

	private final MeterRegistry registry;

	private final Map<Key, Counter> decisions = new ConcurrentHashMap<>();

	private final Map<DataError.Kind, Counter> errors = new ConcurrentHashMap<>();

	private record Key(TenantId tenant, DataSource.Target target, Reason reason) {
	}

	MicrometerRoutingListener(MeterRegistry registry) {
		this.registry = registry;
		// Registered now, so that the errors read 0 before the first one rather than not existing.
		for (DataError.Kind kind : DataError.Kind.values()) {
			error(kind);
		}
	}

	@Override
	public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
		this.decisions.computeIfAbsent(new Key(tenant, target, reason), key -> Counter
				.builder("switchboard.routing.decisions")
				.description("Statements routed, by tenant, datasource, role and reason")
				.tag("tenant", key.tenant().value())
				.tag("datasource", key.target().dataSource().name())
				.tag("role", key.target().role().tag())
				.tag("reason", key.reason().tag())
				.register(this.registry)).increment();
	}

	@Override
	public void failed(ContextView context, DataError error) {
		error(error.kind()).increment();
	}

	private Counter error(DataError.Kind kind) {
		return this.errors.computeIfAbsent(kind, key -> Counter.builder("switchboard.routing.errors")
				.description("Failures of routing, connecting and statements, by kind")
				.tag("kind", key.name().toLowerCase(Locale.ROOT))
				.register(this.registry));
	}
}
