package dev.switchboard.spring;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import org.jspecify.annotations.Nullable;
import org.springframework.http.server.PathContainer;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.util.pattern.PathPattern;
import org.springframework.web.util.pattern.PathPatternParser;
import reactor.core.publisher.Mono;

/**
 * Finds the tenant of a WebFlux request: from who the caller is (a JWT claim, the principal) or
 * from what the request names (a subdomain, a path segment, a header). Declare a bean of this type
 * to replace the one {@code switchboard.web.tenant-from} chooses.
 *
 * <p>A tenant named by the request (subdomain, path, header) is checked against what the
 * authenticated caller may use ({@link TenantAccess}); one taken from the caller's identity is
 * that caller's by construction.
 */
@FunctionalInterface
public interface TenantResolver {

	/**
	 * Return the raw tenant id of the request; the filter validates it.
	 * @param exchange the request
	 * @return the tenant id; empty when the request names none; an error of kind
	 * {@link DataError.Kind#INVALID_TENANT_ID} when it names it in a way that cannot be read (two
	 * headers, a claim that is not a string)
	 */
	Mono<String> resolve(ServerWebExchange exchange);

	/**
	 * A resolver that reads a request header, for services behind a gateway that sets it. Its value
	 * is read as UTF-8; a request with the header twice is refused, rather than one of them chosen.
	 * @param header the header name, for example {@code X-Tenant-Id}
	 * @return the resolver
	 */
	static TenantResolver header(String header) {
		return exchange -> {
			List<String> values = exchange.getRequest().getHeaders().get(header);
			if (values == null || values.isEmpty()) {
				return Mono.empty();
			}
			if (values.size() > 1) {
				return Mono.error(DataError.invalidTenantId(String.join(", ", values),
						"the request has " + values.size() + " " + header + " headers; send one"));
			}
			return Mono.just(utf8(values.get(0)));
		};
	}

	/**
	 * A resolver that reads the label in front of a domain: {@code acme} of
	 * {@code acme.example.com} for {@code example.com}. A host outside the domain names no tenant;
	 * two labels in front of it ({@code a.b.example.com}) are refused. Host names ignore case
	 * (RFC 4343), so the label is read in lower case: {@code ACME.example.com} is the same host as
	 * {@code acme.example.com}, and so the same tenant.
	 * @param domain the domain under which each tenant has its subdomain, for example
	 * {@code example.com}
	 * @return the resolver
	 */
	static TenantResolver subdomain(String domain) {
		String suffix = "." + domain.toLowerCase(Locale.ROOT);
		return exchange -> {
			String uriHost = exchange.getRequest().getURI().getHost();
			String host = uriHost == null ? null : uriHost.toLowerCase(Locale.ROOT);
			if (host == null || !host.endsWith(suffix)
					|| host.length() == suffix.length()) {
				return Mono.empty();
			}
			String label = host.substring(0, host.length() - suffix.length());
			return label.indexOf('.') >= 0
					? Mono.error(DataError.invalidTenantId(label, "expected one label in front of " + domain))
					: Mono.just(label);
		};
	}

	/**
	 * A resolver that reads a variable of a path pattern: {@code acme} of
	 * {@code /tenants/acme/notes} for {@code /tenants/{tenant}/**}. A path that does not match
	 * names no tenant.
	 * @param pattern a Spring {@link PathPattern} with a {@code {tenant}} variable
	 * @return the resolver
	 * @throws IllegalArgumentException if the pattern has no {@code {tenant}} variable
	 */
	static TenantResolver path(String pattern) {
		PathPattern parsed = PathPatternParser.defaultInstance.parse(pattern);
		if (!pattern.contains("{tenant}")) {
			throw new IllegalArgumentException("the tenant path pattern must have a {tenant} variable, was " + pattern);
		}
		return exchange -> {
			PathContainer path = exchange.getRequest().getPath().pathWithinApplication();
			PathPattern.PathMatchInfo match = parsed.matchAndExtract(path);
			return match == null ? Mono.empty() : Mono.justOrEmpty(match.getUriVariables().get("tenant"));
		};
	}

	/**
	 * A resolver that maps the authenticated principal to its tenant; an unauthenticated request
	 * names none.
	 * @param tenantOf the mapping, for example {@code Principal::getName}; it may return
	 * {@code null} for a principal without a tenant
	 * @return the resolver
	 */
	static TenantResolver principal(Function<? super Principal, ? extends @Nullable String> tenantOf) {
		return exchange -> exchange.getPrincipal().mapNotNull(tenantOf);
	}

	/**
	 * A resolver that reads a claim of the caller's OAuth 2 token (a JWT or an introspected one),
	 * from Spring Security's {@code ReactiveSecurityContextHolder}. Needs Spring Security's
	 * resource server on the classpath. A request without a token, or a token without the claim,
	 * names no tenant; a claim that is not a single string is refused.
	 * @param claim the claim name, for example {@code tenant} or {@code tid}
	 * @return the resolver
	 */
	static TenantResolver jwtClaim(String claim) {
		return TokenClaims.tenantResolver(claim);
	}

	/**
	 * HTTP header values arrive as bytes that the server decoded as ISO-8859-1; a client sends
	 * UTF-8, so {@code acmé} would read as {@code acmÃ©}. Read the bytes again as UTF-8, unless
	 * they are not UTF-8.
	 */
	private static String utf8(String latin1) {
		for (int i = 0; i < latin1.length(); i++) {
			if (latin1.charAt(i) > 0x7f) {
				if (latin1.chars().anyMatch(c -> c > 0xff)) {
					return latin1;
				}
				try {
					return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
							.decode(ByteBuffer.wrap(latin1.getBytes(StandardCharsets.ISO_8859_1))).toString();
				}
				catch (CharacterCodingException ex) {
					return latin1;
				}
			}
		}
		return latin1;
	}
}
