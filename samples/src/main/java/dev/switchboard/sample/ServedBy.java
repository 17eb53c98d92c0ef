package dev.switchboard.sample;

import java.util.Set;
import java.util.concurrent.ConcurrentSkipListSet;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.RoutingListener;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.Ordered;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * Shows which servers served a request, in the {@code X-Served-By} response header: a routing
 * listener records each decision into a set that a web filter put into the request's context.
 */
@Configuration(proxyBeanMethods = false)
class ServedBy {

	static final String HEADER = "X-Served-By";

	@Bean
	RoutingListener servedByListener() {
		return new RoutingListener() {
			@Override
			public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
				Set<String> servers = context.getOrDefault(ServedBy.class, null);
				if (servers != null) {
					servers.add(target.name() + " (" + reason.tag() + ")");
				}
			}
		};
	}

	@Bean
	WebFilter servedByFilter() {
		return new OrderedFilter();
	}

	/** Runs before the tenant filter so that the header is written for every routed request. */
	static final class OrderedFilter implements WebFilter, Ordered {

		@Override
		public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
			Set<String> servers = new ConcurrentSkipListSet<>();
			exchange.getResponse().beforeCommit(() -> {
				if (!servers.isEmpty()) {
					exchange.getResponse().getHeaders().set(HEADER, String.join(", ", servers));
				}
				return Mono.empty();
			});
			return chain.filter(exchange).contextWrite(context -> context.put(ServedBy.class, servers));
		}

		@Override
		public int getOrder() {
			return Ordered.HIGHEST_PRECEDENCE;
		}
	}
}
