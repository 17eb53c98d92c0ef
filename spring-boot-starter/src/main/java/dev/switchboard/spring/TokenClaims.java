package dev.switchboard.spring;

import java.util.Collection;

import dev.switchboard.api.DataError;
import org.jspecify.annotations.Nullable;
import org.springframework.security.core.context.ReactiveSecurityContextHolder;
import org.springframework.security.core.context.SecurityContext;
import org.springframework.security.oauth2.server.resource.authentication.AbstractOAuth2TokenAuthenticationToken;
import reactor.core.publisher.Mono;

/**
 * Reads tenants from the claims of the caller's OAuth 2 token: the only class of the starter that
 * touches Spring Security, loaded only when an application asks for a claim
 * ({@link TenantResolver#jwtClaim}, {@link TenantAccess#tokenClaims}), so that Spring Security
 * stays optional.
 */
final class TokenClaims {

	private TokenClaims() {
	}

	static TenantResolver tenantResolver(String claim) {
		return exchange -> ReactiveSecurityContextHolder.getContext()
				.mapNotNull(SecurityContext::getAuthentication)
				.ofType(AbstractOAuth2TokenAuthenticationToken.class)
				.mapNotNull(token -> token.getTokenAttributes().get(claim))
				.flatMap(value -> value instanceof String tenant ? Mono.just(tenant)
						: Mono.error(DataError.invalidTenantId(String.valueOf(value),
								"the token's '" + claim + "' claim is " + describe(value) + ", not a string")));
	}

	static TenantAccess access(String tenantClaim, String tenantsClaim) {
		return (caller, tenant) -> Mono.fromSupplier(() -> caller instanceof AbstractOAuth2TokenAuthenticationToken<?> token
				&& (names(token.getTokenAttributes().get(tenantClaim), tenant.value())
						|| names(token.getTokenAttributes().get(tenantsClaim), tenant.value())));
	}

	private static boolean names(@Nullable Object claim, String tenant) {
		if (claim instanceof String text) {
			for (String listed : text.split("[\\s,]+")) {
				if (listed.equals(tenant)) {
					return true;
				}
			}
			return false;
		}
		return claim instanceof Collection<?> listed && listed.contains(tenant);
	}

	private static String describe(Object value) {
		return value instanceof Collection<?> ? "a list" : value instanceof Number ? "a number"
				: value instanceof Boolean ? "a boolean" : "a " + value.getClass().getSimpleName();
	}
}
