package dev.switchboard.spring;

import java.security.Principal;
import java.time.Duration;
import java.util.List;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import org.springframework.core.Ordered;
import org.springframework.http.server.PathContainer;
import org.springframework.web.ErrorResponse;
import org.springframework.web.reactive.DispatcherHandler;
import org.springframework.web.reactive.resource.ResourceWebHandler;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.SynchronousSink;

/**
 * Resolves the tenant of each request, checks that the caller may use it, and writes a
 * {@link RoutingContext}, with a fresh read-after-write pin, into the Reactor Context of the rest
 * of the chain.
 *
 * <p>A request refused here runs nothing: no tenant, a malformed one or two of them (400), an
 * authenticated caller that {@link TenantAccess} does not let use the tenant (403, asked before the
 * registry, so that a caller cannot tell the tenants that exist from those that do not), a tenant
 * that is not registered (404) or was offboarded (410). The refusal is emitted as a failure that {@link SwitchboardExceptionHandler}
 * answers with a problem detail, the same path as a {@code DataError} from a handler. A refused
 * request for a path that no handler maps goes on without a tenant, so that its 404 wins: whether
 * a path exists does not depend on the tenant. Paths matching the excluded patterns
 * ({@code /actuator/**} by default) pass without a tenant. Thread-safe.
 *
 * <p>With a causal token header ({@code Switchboard-Causal-Token} by default), a token the request
 * brings is kept in its pin, so its reads see the writes of the request that returned it, from
 * this instance or another; a malformed token is answered 400. A well-formed token of another
 * datasource than the tenant's is ignored, neither used nor echoed: a token only asks for fresher
 * reads, so honouring it could not widen what the caller sees, but refusing it would fail clients
 * that switch tenants, or whose tenant moved, over a stale hint; echoing it would hand one
 * datasource's name and position to another tenant's caller. When the response commits, it
 * carries the request's token, if it has one, after the positions of its writes are known (waiting
 * at most 1 s for connections still being released).
 */
public final class TenantWebFilter implements WebFilter, Ordered {

	/**
	 * After Spring Security's filter chain (-100), so that the tenant can come from the
	 * authenticated caller and be checked against it; before the application's own filters.
	 */
	public static final int ORDER = -50;

	private static final Duration SETTLE_POLL = Duration.ofMillis(5);

	private static final int SETTLE_POLLS = 200;

	private final TenantResolver resolver;

	private final DataSourceRegistry registry;

	private final List<PathPattern> excluded;

	private final @Nullable String tokenHeader;

	private final @Nullable TenantAccess access;

	private final @Nullable DispatcherHandler dispatcher;

	/**
	 * Create the filter without an access check, answering every refusal whatever the path.
	 * @param resolver finds the tenant of a request
	 * @param registry the tenants that exist
	 * @param excludedPaths path patterns served without a tenant
	 * @param tokenHeader the header that carries the causal token in requests and responses, or
	 * {@code null} (or blank) for none
	 */
	public TenantWebFilter(TenantResolver resolver, DataSourceRegistry registry, List<String> excludedPaths,
			@Nullable String tokenHeader) {
		this(resolver, registry, excludedPaths, tokenHeader, null, null);
	}

	/**
	 * Create the filter.
	 * @param resolver finds the tenant of a request
	 * @param registry the tenants that exist
	 * @param excludedPaths path patterns served without a tenant
	 * @param tokenHeader the header that carries the causal token in requests and responses, or
	 * {@code null} (or blank) for none
	 * @param access decides whether an authenticated caller may use the tenant, or {@code null}
	 * for no check
	 * @param dispatcher the application's dispatcher, whose handler mappings tell a path that
	 * exists from one that does not, or {@code null} to refuse whatever the path
	 */
	public TenantWebFilter(TenantResolver resolver, DataSourceRegistry registry, List<String> excludedPaths,
			@Nullable String tokenHeader, @Nullable TenantAccess access, @Nullable DispatcherHandler dispatcher) {
		this.resolver = resolver;
		this.registry = registry;
		this.excluded = excludedPaths.stream().map(PathPatternParser.defaultInstance::parse).toList();
		this.tokenHeader = tokenHeader == null || tokenHeader.isBlank() ? null : tokenHeader;
		this.access = access;
		this.dispatcher = dispatcher;
	}

	@Override
	public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
		PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
		for (PathPattern pattern : this.excluded) {
			if (pattern.matches(path)) {
				return chain.filter(exchange);
			}
		}
		return decide(exchange)
				.map(routing -> route(exchange, chain, routing))
				.onErrorResume(refusal -> Mono.just(refuse(exchange, chain, refusal)))
				.flatMap(next -> next);
	}

	/**
	 * The request's routing context: its tenant, validated, configured and allowed to the caller,
	 * and the causal token it brings; or the refusal.
	 */
	private Mono<RoutingContext> decide(ServerWebExchange exchange) {
		Mono<TenantId> tenant = this.resolver.resolve(exchange)
				.switchIfEmpty(Mono.error(() -> new DataError(DataError.Kind.MISSING_CONTEXT,
						"the request names no tenant", null, null, null, null, null)))
				.map(TenantId::of);
		TenantAccess check = this.access;
		if (check != null) {
			// Before the registry: a caller learns whether a tenant exists only if it may use it.
			tenant = tenant.flatMap(id -> exchange.getPrincipal()
					.flatMap(caller -> check.permits(caller, id)
							.flatMap(permitted -> permitted ? Mono.just(id)
									: Mono.error(SwitchboardProblems.accessDenied(id, name(caller)))))
					.defaultIfEmpty(id));
		}
		return tenant.handle(this::known).map(id -> {
			RoutingContext routing = RoutingContext.of(id);
			String brought = this.tokenHeader != null ? exchange.getRequest().getHeaders().getFirst(this.tokenHeader) : null;
			if (brought != null) {
				CausalToken token = CausalToken.parse(brought);
				DataSource own = this.registry.getDataSource(id);
				if (own != null && own.name().equals(token.dataSource())) {
					routing.pin().observe(token);
				}
			}
			return routing;
		});
	}

	/**
	 * Let a tenant the registry routes through: an unknown one fails with
	 * {@code UNKNOWN_TENANT} (404), one that was offboarded with {@code TENANT_OFFBOARDED} (410).
	 */
	private void known(TenantId tenant, SynchronousSink<TenantId> sink) {
		try {
			this.registry.obtainDataSource(tenant);
			sink.next(tenant);
		}
		catch (DataError refused) {
			sink.error(refused);
		}
	}

	private static String name(Principal caller) {
		String name = caller.getName();
		return name != null ? name : caller.getClass().getSimpleName();
	}

	/**
	 * A refused request for a mapped path fails with the refusal; one for a path that no handler
	 * maps (static resources aside, which need no tenant) goes on without a tenant, to its 404.
	 * Asked only on refusal, so an accepted request costs no second handler lookup.
	 */
	private Mono<Void> refuse(ServerWebExchange exchange, WebFilterChain chain, Throwable refusal) {
		if (this.dispatcher == null || !(refusal instanceof DataError || refusal instanceof ErrorResponse)) {
			return Mono.error(refusal);
		}
		return Flux.fromIterable(this.dispatcher.getHandlerMappings())
				.concatMap(mapping -> mapping.getHandler(exchange)
						.map(handler -> !(handler instanceof ResourceWebHandler))
						.onErrorReturn(Boolean.TRUE))
				.any(mapped -> mapped)
				.flatMap(mapped -> mapped ? Mono.error(refusal) : chain.filter(exchange));
	}

	private Mono<Void> route(ServerWebExchange exchange, WebFilterChain chain, RoutingContext routing) {
		String header = this.tokenHeader;
		if (header != null) {
			exchange.getResponse().beforeCommit(() -> settled(routing).then(Mono.fromRunnable(() -> {
				CausalToken token = routing.causalToken();
				if (token != null) {
					exchange.getResponse().getHeaders().set(header, token.toString());
				}
			})));
		}
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

	@Override
	public int getOrder() {
		return ORDER;
	}
}
