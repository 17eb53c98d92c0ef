package dev.switchboard.spring;

import java.util.List;
import java.util.Map;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

/**
 * The tenant from the caller's JWT ({@code switchboard.web.tenant-from=jwt-claim}), behind Spring
 * Security's resource server with real signed tokens: the claim decides the tenant, a header
 * cannot, and a claim that is missing, malformed or names no configured tenant is a problem.
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = SecuredApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "switchboard.web.tenant-from=jwt-claim", "switchboard.web.tenant-claim=tid" })
@AutoConfigureWebTestClient
class JwtClaimTenantIT {

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		twoTenants(properties);
	}

	/** acme on the PostgreSQL servers, globex on the MariaDB ones. */
	static void twoTenants(DynamicPropertyRegistry properties) {
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		properties.add("switchboard.datasources.pg-main.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-main.replicas[0]", () -> pg.url(pg.replica()));
		properties.add("switchboard.datasources.maria-main.primary", () -> maria.url(maria.primary()));
		properties.add("switchboard.datasources.maria-main.replicas[0]", () -> maria.url(maria.replica()));
		properties.add("switchboard.datasources.maria-main.dialect", () -> "MARIADB");
		properties.add("switchboard.tenants.acme.datasource", () -> "pg-main");
		properties.add("switchboard.tenants.globex.datasource", () -> "maria-main");
	}

	@Test
	void anAcmeTokenReadsAcme() {
		this.client.get().uri("/server").headers(bearer(Map.of("tid", "acme"))).exchange()
				.expectStatus().isOk()
				.expectBody(String.class).isEqualTo(String.valueOf(topology.postgres().replica().port()));
	}

	@Test
	void aTenantHeaderCannotOverrideTheClaim() {
		this.client.get().uri("/server").headers(bearer(Map.of("tid", "acme"))).header("X-Tenant-Id", "globex")
				.exchange()
				.expectStatus().isOk()
				.expectBody(String.class).isEqualTo(String.valueOf(topology.postgres().replica().port()));
	}

	@Test
	void noTokenIsUnauthorizedBySpringSecurity() {
		this.client.get().uri("/server").header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isUnauthorized()
				.expectHeader().valueMatches(HttpHeaders.WWW_AUTHENTICATE, "Bearer.*");
	}

	@Test
	void aTokenSignedByAnotherKeyIsUnauthorized() {
		String token = TestTokens.mint(Map.of("tid", "acme"));
		String forged = token.substring(0, token.lastIndexOf('.') + 1) + "c2lnbmF0dXJl";
		this.client.get().uri("/server").header(HttpHeaders.AUTHORIZATION, "Bearer " + forged).exchange()
				.expectStatus().isUnauthorized();
	}

	@Test
	void aClaimNamingAnUnknownTenantIsANotFoundProblem() {
		this.client.get().uri("/server").headers(bearer(Map.of("tid", "hooli"))).exchange()
				.expectStatus().isNotFound()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.status").isEqualTo(404)
				.jsonPath("$.kind").isEqualTo("UNKNOWN_TENANT")
				.jsonPath("$.tenant").isEqualTo("hooli");
	}

	@Test
	void aMalformedClaimIsABadRequestProblem() {
		for (Object malformed : List.of("acme;drop", 42, List.of("acme", "globex"))) {
			this.client.get().uri("/server").headers(bearer(Map.of("tid", malformed))).exchange()
					.expectStatus().isBadRequest()
					.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
					.expectBody()
					.jsonPath("$.status").isEqualTo(400)
					.jsonPath("$.kind").isEqualTo("INVALID_TENANT_ID");
		}
	}

	@Test
	void aTokenWithoutTheClaimIsAMissingTenantProblem() {
		this.client.get().uri("/server").headers(bearer(Map.of("tenant", "acme"))).exchange()
				.expectStatus().isBadRequest()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.kind").isEqualTo("MISSING_CONTEXT");
	}

	static java.util.function.Consumer<HttpHeaders> bearer(Map<String, Object> claims) {
		String token = TestTokens.mint(claims);
		return headers -> headers.setBearerAuth(token);
	}
}
