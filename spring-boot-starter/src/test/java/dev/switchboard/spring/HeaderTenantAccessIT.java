package dev.switchboard.spring;

import java.util.Map;
import java.util.UUID;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static dev.switchboard.spring.JwtClaimTenantIT.bearer;
import static dev.switchboard.spring.TenantAccessIT.rows;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The header resolver behind Spring Security's resource server: a caller whose token is acme's
 * cannot reach globex by sending {@code X-Tenant-Id: globex}; 403, and the servers show that
 * nothing ran.
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = SecuredApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "switchboard.web.tenant-from=header", "switchboard.web.trust-tenant-header=true" })
@AutoConfigureWebTestClient
class HeaderTenantAccessIT {

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		JwtClaimTenantIT.twoTenants(properties);
	}

	@BeforeAll
	static void createTables() {
		TenantAccessIT.createTables();
	}

	@Test
	void anAcmeTokenWithAGlobexHeaderIsForbiddenAndNothingRuns() {
		String mine = "header-" + UUID.randomUUID();
		String theirs = "header-" + UUID.randomUUID();
		this.client.post().uri("/notes/{id}", mine).headers(bearer(Map.of("tenant", "acme")))
				.header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isOk();
		this.client.post().uri("/notes/{id}", theirs).headers(bearer(Map.of("tenant", "acme")))
				.header("X-Tenant-Id", "globex").exchange()
				.expectStatus().isForbidden()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.tenant").isEqualTo("globex");

		assertThat(rows(topology.postgres(), mine)).as("the control: acme's own write ran").isOne();
		assertThat(rows(topology.mariadb(), theirs)).isZero();
		assertThat(rows(topology.postgres(), theirs)).isZero();
	}

	/**
	 * A tenant the caller may not use is refused whether it exists or not: a 404 for a tenant that
	 * does not exist beside a 403 for one that does would tell any caller which tenants exist.
	 */
	@Test
	void aTenantTheCallerMayNotUseIsForbiddenWhetherItExistsOrNot() {
		for (String named : new String[] { "globex", "hooli" }) {
			this.client.get().uri("/server").headers(bearer(Map.of("tenant", "acme"))).header("X-Tenant-Id", named)
					.exchange()
					.expectStatus().isForbidden()
					.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
					.expectBody().jsonPath("$.tenant").isEqualTo(named);
		}
		this.client.get().uri("/server").headers(bearer(Map.of("tenants", "acme hooli"))).header("X-Tenant-Id", "hooli")
				.exchange()
				.expectStatus().isNotFound()
				.expectBody().jsonPath("$.kind").isEqualTo("UNKNOWN_TENANT");
	}
}
