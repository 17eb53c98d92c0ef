package dev.switchboard.benchmarks;

import java.util.Map;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.ConnectionFactory;
import org.springframework.r2dbc.connection.lookup.AbstractRoutingConnectionFactory;
import reactor.core.publisher.Mono;

/**
 * The comparison for Switchboard's routing: Spring's {@link AbstractRoutingConnectionFactory},
 * routing by the tenant of the {@link RoutingContext} in the Reactor Context, as an application
 * without Switchboard would write it.
 *
 * <p>The lookup key is the {@link TenantId}, read through {@code Mono.deferContextual} from a
 * publisher built once; Spring then looks it up in the map of targets. There is no default
 * target, so a missing or unknown tenant is an error, as in Switchboard. Spring has no notion of
 * replicas, pins or intents: each tenant has one target. Ready for use when constructed;
 * thread-safe.
 */
final class TenantRoutingConnectionFactory extends AbstractRoutingConnectionFactory {

	private final Mono<Object> lookupKey = Mono.deferContextual(context -> {
		RoutingContext routing = RoutingContext.find(context);
		return routing != null ? Mono.just(routing.tenant()) : Mono.empty();
	});

	/**
	 * Create a router over {@code targets}, resolved at once.
	 * @param targets the connection factory of each tenant
	 */
	TenantRoutingConnectionFactory(Map<TenantId, ? extends ConnectionFactory> targets) {
		setTargetConnectionFactories(targets);
		afterPropertiesSet();
	}

	@Override
	protected Mono<Object> determineCurrentLookupKey() {
		return this.lookupKey;
	}
}
