package dev.switchboard.api;

import java.util.function.Function;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Who a request is for: the tenant, and the request's {@link ReadAfterWritePin}. It travels in
 * the Reactor {@link Context}, where routing reads it once per subscription.
 *
 * <pre class="code">
 * Flux.from(dsl.selectFrom(ORDERS))
 *     .contextWrite(RoutingContext.forTenant("acme"));
 *
 * Flux.from(dsl.selectFrom(ORDERS))                       // sees the writes behind the token
 *     .contextWrite(RoutingContext.forTenant("acme", request.getHeader("Switchboard-Causal-Token")));
 * </pre>
 *
 * <p>A tenant id or causal token given as a string is checked when the context writer is made,
 * but a bad one is not thrown there: the pipeline's routing fails with it when it subscribes, as
 * it fails for an unknown tenant, so one {@code onErrorResume(DataError.class, ...)} handles every
 * routing error. Such a context has no {@link #tenant()}.
 *
 * <p>Instances are immutable apart from the pin, and safe to read from any thread.
 */
public final class RoutingContext {

	private static final Class<RoutingContext> KEY = RoutingContext.class;

	private static final Class<AccessIntent> INTENT_KEY = AccessIntent.class;

	private final @Nullable TenantId tenant;

	private final ReadAfterWritePin pin;

	/** Why a context written for a bad tenant id or causal token cannot be routed; then no tenant. */
	private final @Nullable DataError invalid;

	private RoutingContext(@Nullable TenantId tenant, ReadAfterWritePin pin, @Nullable DataError invalid) {
		this.tenant = tenant;
		this.pin = pin;
		this.invalid = invalid;
	}

	/**
	 * Create a routing context for {@code tenant} with a fresh pin.
	 * @param tenant the tenant of the request
	 * @return a new routing context
	 */
	public static RoutingContext of(TenantId tenant) {
		return new RoutingContext(tenant, new ReadAfterWritePin(), null);
	}

	/**
	 * Create a routing context for {@code tenant} that shares an existing pin, for code that
	 * continues a request outside its original pipeline.
	 * @param tenant the tenant of the request
	 * @param pin the request's pin
	 * @return a new routing context
	 */
	public static RoutingContext of(TenantId tenant, ReadAfterWritePin pin) {
		return new RoutingContext(tenant, pin, null);
	}

	/**
	 * Return a context writer, for {@code contextWrite}, that routes the pipeline upstream of it to
	 * {@code tenant}, with a fresh pin for every subscription.
	 * <p>An id that is not valid is not thrown here: the pipeline fails with a {@link DataError} of
	 * kind {@link DataError.Kind#INVALID_TENANT_ID} when it subscribes, as it fails for an unknown
	 * tenant. {@link TenantId#of(String)} stays strict for code that wants the exception.
	 * @param tenant the tenant id, as received
	 * @return a function for {@link reactor.core.publisher.Flux#contextWrite(Function)}
	 */
	public static Function<Context, Context> forTenant(String tenant) {
		TenantId id;
		try {
			id = TenantId.of(tenant);
		}
		catch (DataError ex) {
			return invalid(() -> TenantId.of(tenant));
		}
		return forTenant(id);
	}

	/**
	 * Return a context writer, for {@code contextWrite}, that routes the pipeline upstream of it to
	 * {@code tenant}, with a fresh pin for every subscription that holds the causal token the
	 * request brought, so that its reads on a datasource in {@link ReadConsistency#CAUSAL} mode see
	 * the writes of the request that returned the token.
	 * <p>Neither a bad id nor a malformed token is thrown here: the pipeline fails when it
	 * subscribes, with a {@link DataError} of kind {@link DataError.Kind#INVALID_TENANT_ID} or
	 * {@link DataError.Kind#INVALID_CAUSAL_TOKEN} (the id is checked first).
	 * @param tenant the tenant id, as received
	 * @param causalToken the token's string form ({@link CausalToken#toString()}), for example from
	 * a request header, or {@code null} when the request brought none
	 * @return a function for {@link reactor.core.publisher.Flux#contextWrite(Function)}
	 */
	public static Function<Context, Context> forTenant(String tenant, @Nullable String causalToken) {
		if (causalToken == null) {
			return forTenant(tenant);
		}
		TenantId id;
		CausalToken token;
		try {
			id = TenantId.of(tenant);
		}
		catch (DataError ex) {
			return invalid(() -> TenantId.of(tenant));
		}
		try {
			token = CausalToken.parse(causalToken);
		}
		catch (DataError ex) {
			return invalid(() -> CausalToken.parse(causalToken));
		}
		return context -> {
			RoutingContext routing = of(id);
			routing.pin.observe(token);
			return context.put(KEY, routing);
		};
	}

	/**
	 * A writer of a context that routing refuses with the error {@code parse} throws. The error is
	 * made again for every subscription: an exception is mutable (a {@code block()} adds a
	 * suppressed exception to it), so subscriptions must not share one.
	 */
	private static Function<Context, Context> invalid(Runnable parse) {
		return context -> {
			DataError error;
			try {
				parse.run();
				throw new IllegalStateException("a value refused once was accepted");
			}
			catch (DataError ex) {
				error = ex;
			}
			return context.put(KEY, new RoutingContext(null, new ReadAfterWritePin(), error));
		};
	}

	/**
	 * Return a context writer, for {@code contextWrite}, that routes the pipeline upstream of it to
	 * {@code tenant}, with a fresh pin for every subscription.
	 * @param tenant the tenant id
	 * @return a function for {@link reactor.core.publisher.Flux#contextWrite(Function)}
	 */
	public static Function<Context, Context> forTenant(TenantId tenant) {
		return context -> context.put(KEY, of(tenant));
	}

	/**
	 * Return a context writer, for {@code contextWrite}, that declares the intent of every statement
	 * upstream of it, for callers who know it better than routing can guess.
	 * <p>Without a declaration, the jOOQ integration infers the intent from the query, and plain
	 * R2DBC statements are routed as writes. The pin still applies: a declared read after a write
	 * goes to the primary.
	 * @param intent the intent to declare
	 * @return a function for {@link reactor.core.publisher.Flux#contextWrite(Function)}
	 */
	public static Function<Context, Context> intent(AccessIntent intent) {
		return context -> context.put(INTENT_KEY, intent);
	}

	/**
	 * Return this routing context as a context writer, for a filter that built it itself.
	 * @return a function for {@link reactor.core.publisher.Flux#contextWrite(Function)}
	 */
	public Function<Context, Context> asContextWriter() {
		return context -> context.put(KEY, this);
	}

	/**
	 * Record the causal token a request brought, in its string form, so that the request's reads
	 * see the position it names: the same as {@code pin().observe(CausalToken.parse(token))}, for
	 * filters that build the context themselves and answer a malformed token on their own.
	 * @param token the token as received, for example {@code orders-pg@0/3000148}
	 * @return this context
	 * @throws DataError of kind {@link DataError.Kind#INVALID_CAUSAL_TOKEN} if the token is
	 * malformed; the context is then unchanged
	 */
	public RoutingContext observeCausalToken(String token) {
		this.pin.observe(CausalToken.parse(token));
		return this;
	}

	/**
	 * Return the routing context of the subscribing pipeline.
	 * @return a {@code Mono} of the routing context, or an error of kind
	 * {@link DataError.Kind#MISSING_CONTEXT} when there is none, or the error of a context written
	 * for a bad tenant id or causal token
	 */
	public static Mono<RoutingContext> current() {
		return Mono.deferContextual(context -> {
			RoutingContext found = find(context);
			return found != null && found.tenant != null ? Mono.just(found) : Mono.error(noTenantError(found));
		});
	}

	/**
	 * Return the error for a pipeline whose routing context gives no tenant, for routers: the one
	 * home of that rule.
	 * @param found the pipeline's routing context, from {@link #find(ContextView)}
	 * @return the error of a context written for a bad tenant id or causal token, or one of kind
	 * {@link DataError.Kind#MISSING_CONTEXT} when there is no context
	 */
	public static DataError noTenantError(@Nullable RoutingContext found) {
		DataError invalid = found != null ? found.invalid : null;
		return invalid != null ? invalid : DataError.missingContext();
	}

	/**
	 * Find the routing context in a Reactor context. One written for a bad tenant id or causal
	 * token is found too, without a {@link #tenant()}.
	 * @param context the context of a subscriber
	 * @return the routing context, or {@code null} if none was written
	 */
	public static @Nullable RoutingContext find(ContextView context) {
		return context.getOrDefault(KEY, null);
	}

	/**
	 * Find the intent declared with {@link #intent(AccessIntent)}.
	 * @param context the context of a subscriber
	 * @return the declared intent, or {@code null} if none was declared
	 */
	public static @Nullable AccessIntent findDeclaredIntent(ContextView context) {
		return context.getOrDefault(INTENT_KEY, null);
	}

	/**
	 * Return the tenant of the request.
	 * @return the tenant id; {@code null} only for a context written for a bad tenant id or causal
	 * token, which routing refuses with {@link #noTenantError(RoutingContext)}
	 */
	public @Nullable TenantId tenant() {
		return this.tenant;
	}

	/**
	 * Return the request's read-after-write pin.
	 * @return the pin, shared by every statement of the request
	 */
	public ReadAfterWritePin pin() {
		return this.pin;
	}

	/**
	 * Return the causal token of this request: the position its later reads must see on a
	 * datasource in {@link ReadConsistency#CAUSAL} mode. Same as {@code pin().token()}.
	 * @return the token, or {@code null}
	 */
	public @Nullable CausalToken causalToken() {
		return this.pin.token();
	}

	@Override
	public String toString() {
		return this.invalid != null ? "RoutingContext[invalid: " + this.invalid.getMessage() + "]"
				: "RoutingContext[tenant=" + this.tenant + ", " + this.pin + "]";
	}
}
