package dev.switchboard.spring;

import java.security.Principal;

import dev.switchboard.api.TenantId;
import reactor.core.publisher.Mono;

/**
 * Decides whether an authenticated caller may use a tenant. The tenant filter asks it for every
 * authenticated request before anything runs; a refusal is answered 403 with a problem detail.
 *
 * <p>By default ({@link #tokenClaims}) the caller's OAuth 2 token lists its tenants; declare a bean
 * of this type to decide otherwise (a membership table, a directory). Turn the check off with
 * {@code switchboard.web.check-tenant-access=false}. Unauthenticated requests are not checked:
 * whether they may run at all is Spring Security's decision.
 */
@FunctionalInterface
public interface TenantAccess {

	/**
	 * Tell whether the caller may use the tenant.
	 * @param caller the authenticated caller, as {@code ServerWebExchange.getPrincipal()} gives it
	 * @param tenant the tenant the request resolved to, validated; asked before the registry, so it
	 * may be a tenant that does not exist (or was offboarded), which the caller must not learn
	 * @return {@code true} to let the request run; must not be empty
	 */
	Mono<Boolean> permits(Principal caller, TenantId tenant);

	/**
	 * Permit a caller whose OAuth 2 token (JWT or introspected) names the tenant in either claim:
	 * the single-tenant claim, or the claim listing tenants (a JSON array, or a string of ids
	 * separated by spaces or commas). A caller that is not a token's is refused: declare a
	 * {@code TenantAccess} bean that knows it. Needs Spring Security's resource server.
	 * @param tenantClaim the claim naming the caller's tenant, for example {@code tenant}
	 * @param tenantsClaim the claim listing the caller's tenants, for example {@code tenants}
	 * @return the check
	 */
	static TenantAccess tokenClaims(String tenantClaim, String tenantsClaim) {
		return TokenClaims.access(tenantClaim, tenantsClaim);
	}
}
