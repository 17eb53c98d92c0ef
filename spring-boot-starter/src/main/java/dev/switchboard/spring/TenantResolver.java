package dev.switchboard.spring;

import org.springframework.web.server.ServerWebExchange;
import reactor.core.publisher.Mono;

/**
 * Finds the tenant of a WebFlux request: a header (the default), a JWT claim, a subdomain, the
 * principal. Declare a bean of this type to replace the default.
 */
@FunctionalInterface
public interface TenantResolver {

	/**
	 * Return the raw tenant id of the request; the filter validates it.
	 * @param exchange the request
	 * @return the tenant id, or empty when the request names none
	 */
	Mono<String> resolve(ServerWebExchange exchange);

	/**
	 * A resolver that reads a request header.
	 * @param header the header name, for example {@code X-Tenant-Id}
	 * @return the resolver
	 */
	static TenantResolver header(String header) {
		return exchange -> Mono.justOrEmpty(exchange.getRequest().getHeaders().getFirst(header));
	}
}
