package dev.switchboard.spring;

import java.nio.charset.StandardCharsets;
import java.security.Principal;

import dev.switchboard.api.DataError;
import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The resolvers that read what the request names: a header, a subdomain, a path segment, the
 * principal.
 */
class TenantResolverTest {

	@Test
	void theHeaderResolverReadsOneHeaderAsUtf8() {
		TenantResolver header = TenantResolver.header("X-Tenant-Id");
		StepVerifier.create(header.resolve(get("/notes", "acme"))).expectNext("acme").verifyComplete();
		String utf8 = new String("acmé".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
		StepVerifier.create(header.resolve(get("/notes", utf8))).expectNext("acmé").verifyComplete();
		// Not UTF-8: kept as the server read it, for TenantId to refuse.
		StepVerifier.create(header.resolve(get("/notes", "acm\u00e9"))).expectNext("acm\u00e9").verifyComplete();
		StepVerifier.create(header.resolve(get("/notes"))).verifyComplete();
	}

	@Test
	void twoTenantHeadersAreRefusedRatherThanOneChosen() {
		StepVerifier.create(TenantResolver.header("X-Tenant-Id").resolve(get("/notes", "acme", "globex")))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOf(DataError.class)
						.hasMessageContaining("2 X-Tenant-Id headers")
						.extracting(e -> ((DataError) e).kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID))
				.verify();
	}

	@Test
	void theSubdomainResolverReadsTheLabelInFrontOfTheDomain() {
		TenantResolver subdomain = TenantResolver.subdomain("example.com");
		StepVerifier.create(subdomain.resolve(host("acme.example.com"))).expectNext("acme").verifyComplete();
		StepVerifier.create(subdomain.resolve(host("ACME.Example.COM"))).expectNext("acme").verifyComplete();
		StepVerifier.create(subdomain.resolve(host("example.com"))).verifyComplete();
		StepVerifier.create(subdomain.resolve(host("acme.example.org"))).verifyComplete();
		StepVerifier.create(subdomain.resolve(host("acme.evil-example.com"))).verifyComplete();
		StepVerifier.create(subdomain.resolve(host("a.b.example.com"))).expectError(DataError.class).verify();
	}

	@Test
	void thePathResolverReadsTheTenantVariable() {
		TenantResolver path = TenantResolver.path("/tenants/{tenant}/**");
		StepVerifier.create(path.resolve(get("/tenants/acme/notes"))).expectNext("acme").verifyComplete();
		StepVerifier.create(path.resolve(get("/notes"))).verifyComplete();
		assertThatIllegalArgumentException().isThrownBy(() -> TenantResolver.path("/tenants/{id}/**"))
				.withMessageContaining("{tenant}");
	}

	@Test
	void thePrincipalResolverMapsTheAuthenticatedPrincipal() {
		TenantResolver principal = TenantResolver.principal(caller -> caller.getName().split("@")[1]);
		Principal alice = () -> "alice@acme";
		MockServerWebExchange authenticated = MockServerWebExchange.builder(MockServerHttpRequest.get("/notes"))
				.principal(alice).build();
		StepVerifier.create(principal.resolve(authenticated)).expectNext("acme").verifyComplete();
		StepVerifier.create(principal.resolve(get("/notes"))).verifyComplete();
	}

	static MockServerWebExchange get(String path, String... tenants) {
		MockServerHttpRequest.BaseBuilder<?> request = MockServerHttpRequest.get(path);
		if (tenants.length > 0) {
			request.header("X-Tenant-Id", tenants);
		}
		return MockServerWebExchange.from(request);
	}

	static MockServerWebExchange host(String host) {
		return MockServerWebExchange.from(MockServerHttpRequest.get("http://" + host + "/notes"));
	}
}
