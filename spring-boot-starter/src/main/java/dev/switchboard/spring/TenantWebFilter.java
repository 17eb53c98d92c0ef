package dev.switchboard.spring;

import java.nio.charset.StandardCharsets;
import java.util.List;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.PathContainer;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;

/**
 * Resolves the tenant of each request and writes a {@link RoutingContext}, with a fresh
 * read-after-write pin, into the Reactor Context of the rest of the chain.
 *
 * <p>A request without a tenant, or with a malformed one, is answered 400; a tenant that is not
 * configured, 404; both as RFC 9457 {@code application/problem+json}. Paths matching the
 * excluded patterns ({@code /actuator/**} by default) pass without a tenant. Thread-safe.
 *
 * <p>With a causal token header ({@code Switchboard-Causal-Token} by default), a token the request
 * brings is kept in its pin, so its reads see the writes of the request that returned it, from
 * this instance or another; a malformed token is answered 400. When the response commits, it
 * carries the request's token, if it has one, after the positions of its writes are known (waiting
 * at most 1 s for connections still being released).
 */
public final class TenantWebFilter implements WebFilter, Ordered {

	/** Runs early, so that every later filter and handler sees the tenant. */
	public static final int ORDER = Ordered.HIGHEST_PRECEDENCE + 100;

	private static final java.time.Duration SETTLE_POLL = java.time.Duration.ofMillis(5);

	private static final int SETTLE_POLLS = 200;

	private final TenantResolver resolver;

	private final DataSourceRegistry registry;

	private final List<PathPattern> excluded;

	private final @Nullable String tokenHeader;

	/**
	 * Create the filter.
	 * @param resolver finds the tenant of a request
	 * @param registry the tenants that exist
	 * @param excludedPaths path patterns served without a tenant
	 * @param tokenHeader the header that carries the causal token in requests and responses, or
	 * {@code null} (or blank) for none
	 */
	public TenantWebFilter(TenantResolver resolver, DataSourceRegistry registry, List<String> excludedPaths,
			@Nullable String tokenHeader) {
		this.resolver = resolver;
		this.registry = registry;
		this.excluded = excludedPaths.stream().map(PathPatternParser.defaultInstance::parse).toList();
		this.tokenHeader = tokenHeader == null || tokenHeader.isBlank() ? null : tokenHeader;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
		for (PathPattern pattern : this.excluded) {
			if (pattern.matches(path)) {
				return chain.filter(exchange);
			}
		}
		return this.resolver.resolve(exchange)
				.map(raw -> route(exchange, chain, raw))
				.defaultIfEmpty(Mono.defer(() -> problem(exchange, HttpStatus.BAD_REQUEST, "Missing tenant",
						"the request names no tenant", null)))
				.flatMap(response -> response);
	}

	private Mono<Void> route(ServerWebExchange exchange, WebFilterChain chain, String raw) {
		TenantId tenant;
		try {
			tenant = TenantId.of(raw);
		}
		catch (DataError ex) {
			return problem(exchange, HttpStatus.BAD_REQUEST, "Invalid tenant", ex.getMessage(), null);
		}
		if (this.registry.getDataSource(tenant) == null) {
			return problem(exchange, HttpStatus.NOT_FOUND, "Unknown tenant",
					"tenant '" + tenant + "' is not configured", tenant.value());
		}
		if (this.tokenHeader == null) {
			return chain.filter(exchange).contextWrite(RoutingContext.forTenant(tenant));
		}
		RoutingContext routing = RoutingContext.of(tenant);
		String brought = exchange.getRequest().getHeaders().getFirst(this.tokenHeader);
		if (brought != null) {
			try {
				routing.observeCausalToken(brought);
			}
			catch (DataError ex) {
				return problem(exchange, HttpStatus.BAD_REQUEST, "Invalid causal token", ex.getMessage(), tenant.value());
			}
		}
		String header = this.tokenHeader;
		exchange.getResponse().beforeCommit(() -> settled(routing).then(Mono.fromRunnable(() -> {
			CausalToken token = routing.causalToken();
			if (token != null) {
				exchange.getResponse().getHeaders().set(header, token.toString());
			}
		})));
		return chain.filter(exchange).contextWrite(routing.asContextWriter());
	}

	/**
	 * Complete when no connection of the request to a causal primary is still being released, or
	 * after 1 s: a pipeline that cancels after its first element releases its connection after the
	 * handler has completed.
	 */
	private static Mono<Void> settled(RoutingContext routing) {
		return Mono.fromSupplier(routing.pin()::isPositionPending)
				.filter(pending -> !pending)
				.repeatWhenEmpty(SETTLE_POLLS, polls -> polls.delayElements(SETTLE_POLL))
				.onErrorComplete()
				.then();
	}

	private static Mono<Void> problem(ServerWebExchange exchange, HttpStatus status, String title, String detail,
			@Nullable String tenant) {
		StringBuilder json = new StringBuilder(160).append("{\"type\":\"about:blank\",\"title\":");
		quote(json, title).append(",\"status\":").append(status.value()).append(",\"detail\":");
		quote(json, detail).append(",\"instance\":");
		quote(json, exchange.getRequest().getPath().value());
		if (tenant != null) {
			quote(json.append(",\"tenant\":"), tenant);
		}
		json.append('}');
		exchange.getResponse().setStatusCode(status);
		exchange.getResponse().getHeaders().setContentType(MediaType.APPLICATION_PROBLEM_JSON);
		DataBuffer body = exchange.getResponse().bufferFactory().wrap(json.toString().getBytes(StandardCharsets.UTF_8));
		return exchange.getResponse().writeWith(Mono.just(body));
	}

	private static StringBuilder quote(StringBuilder json, String value) {
		json.append('"');
		for (int i = 0; i < value.length(); i++) {
			char c = value.charAt(i);
			switch (c) {
				case '"' -> json.append("\\\"");
				case '\\' -> json.append("\\\\");
				default -> {
					if (c < 0x20) {
						json.append(String.format("\\u%04x", (int) c));
					}
					else {
						json.append(c);
					}
				}
			}
		}
		return json.append('"');
	}

	@Override
	public int getOrder() {
		return ORDER;
	}
}
