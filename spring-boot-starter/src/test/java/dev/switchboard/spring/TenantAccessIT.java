package dev.switchboard.spring;

import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
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
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tenant named by the request ({@code switchboard.web.tenant-from=path}) behind Spring Security's
 * resource server: the caller's token must list it, else 403 and nothing runs, which the servers
 * themselves show (the row the handler would insert is not there).
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = SecuredApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = "switchboard.web.tenant-from=path")
@AutoConfigureWebTestClient
class TenantAccessIT {

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		JwtClaimTenantIT.twoTenants(properties);
	}

	@BeforeAll
	static void createTables() {
		for (Topology.Engine engine : new Topology.Engine[] { topology.postgres(), topology.mariadb() }) {
			Sql.execute(engine.connectionFactory(engine.primary()), "CREATE TABLE IF NOT EXISTS " + SecuredApplication.TABLE
					+ " (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL)");
			engine.awaitTable(SecuredApplication.TABLE);
		}
	}

	@Test
	void anAcmeTokenWritesAcme() {
		String id = "access-" + UUID.randomUUID();
		this.client.post().uri("/tenants/acme/notes/{id}", id).headers(bearer(Map.of("tenant", "acme"))).exchange()
				.expectStatus().isOk();
		assertThat(rows(topology.postgres(), id)).as("the control: the handler writes where the tenant lives").isOne();
	}

	@Test
	void anAcmeTokenOnAGlobexPathIsForbiddenAndNothingRuns() {
		String id = "access-" + UUID.randomUUID();
		this.client.post().uri("/tenants/globex/notes/{id}", id).headers(bearer(Map.of("tenant", "acme"))).exchange()
				.expectStatus().isForbidden()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.status").isEqualTo(403)
				.jsonPath("$.tenant").isEqualTo("globex")
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("'user'", "'globex'"));
		this.client.get().uri("/tenants/globex/server").headers(bearer(Map.of("tenant", "acme"))).exchange()
				.expectStatus().isForbidden();

		assertThat(rows(topology.mariadb(), id)).isZero();
		assertThat(rows(topology.postgres(), id)).isZero();
	}

	@Test
	void anAcmeTokenOnAPathOfATenantThatDoesNotExistIsForbiddenToo() {
		this.client.get().uri("/tenants/hooli/server").headers(bearer(Map.of("tenant", "acme"))).exchange()
				.expectStatus().isForbidden()
				.expectBody().jsonPath("$.tenant").isEqualTo("hooli");
	}

	@Test
	void aTokenListingBothTenantsMayUseEither() {
		Map<String, Object> claims = Map.of("tenants", List.of("acme", "globex"));
		this.client.get().uri("/tenants/globex/server").headers(bearer(claims)).exchange()
				.expectStatus().isOk()
				.expectBody(String.class).isEqualTo(String.valueOf(topology.mariadb().replica().port()));
		this.client.get().uri("/tenants/acme/server").headers(bearer(claims)).exchange()
				.expectStatus().isOk()
				.expectBody(String.class).isEqualTo(String.valueOf(topology.postgres().replica().port()));
	}

	@Test
	void noTokenIsUnauthorizedAndNothingRuns() {
		String id = "access-" + UUID.randomUUID();
		this.client.post().uri("/tenants/globex/notes/{id}", id).exchange().expectStatus().isUnauthorized();
		assertThat(rows(topology.mariadb(), id)).isZero();
	}

	@Test
	void anUnknownPathIsNotFoundWhateverTheTenant() {
		for (String path : new String[] { "/tenants/globex/nothing-here", "/tenants/hooli/nothing-here", "/nothing-here" }) {
			this.client.get().uri(path).headers(bearer(Map.of("tenant", "acme"))).exchange()
					.expectStatus().isNotFound();
		}
	}

	static long rows(Topology.Engine engine, String id) {
		String marker = engine == topology.postgres() ? "$1" : "?";
		return Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT id FROM " + SecuredApplication.TABLE + " WHERE id = " + marker, id).size();
	}
}
