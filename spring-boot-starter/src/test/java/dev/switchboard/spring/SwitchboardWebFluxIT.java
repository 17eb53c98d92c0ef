package dev.switchboard.spring;

import java.util.UUID;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.micrometer.core.instrument.MeterRegistry;
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

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A WebFlux application on the real topology, configured from properties only: the tenant header
 * decides the server, errors are RFC 9457 problems, and metrics and health are there.
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "management.endpoints.web.exposure.include=health,metrics",
				"management.endpoint.health.show-components=always", "management.endpoint.health.show-details=always" })
@AutoConfigureWebTestClient
class SwitchboardWebFluxIT {

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@Autowired
	MeterRegistry meters;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		properties.add("switchboard.datasources.pg-main.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-main.replicas[0]", () -> pg.url(pg.replica()));
		properties.add("switchboard.datasources.maria-main.primary", () -> maria.url(maria.primary()));
		properties.add("switchboard.datasources.maria-main.replicas[0]", () -> maria.url(maria.replica()));
		properties.add("switchboard.datasources.maria-main.dialect", () -> "MARIADB");
		properties.add("switchboard.datasources.pg-lagging.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-lagging.replicas[0]", () -> pg.url(pg.laggingReplica()));
		properties.add("switchboard.tenants.acme.datasource", () -> "pg-main");
		properties.add("switchboard.tenants.globex.datasource", () -> "maria-main");
		properties.add("switchboard.tenants.lagging.datasource", () -> "pg-lagging");
		properties.add("switchboard.datasources.pg-causal.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-causal.replicas[0]", () -> pg.url(pg.laggingReplica()));
		properties.add("switchboard.datasources.pg-causal.consistency", () -> "causal");
		properties.add("switchboard.tenants.causal.datasource", () -> "pg-causal");
	}

	@BeforeAll
	static void createTables() {
		for (Topology.Engine engine : new Topology.Engine[] { topology.postgres(), topology.mariadb() }) {
			Sql.execute(engine.connectionFactory(engine.primary()),
					"CREATE TABLE IF NOT EXISTS notes (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, body VARCHAR(200))");
			engine.awaitTable("notes");
		}
	}

	@Test
	void theTenantHeaderPicksTheServer() {
		this.client.get().uri("/server").header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isOk().expectBody(String.class).isEqualTo(String.valueOf(topology.postgres().replica().port()));
		this.client.get().uri("/server").header("X-Tenant-Id", "globex").exchange()
				.expectStatus().isOk().expectBody(String.class).isEqualTo(String.valueOf(topology.mariadb().replica().port()));
	}

	@Test
	void missingOrInvalidTenantIsABadRequestProblem() {
		this.client.get().uri("/server").exchange()
				.expectStatus().isBadRequest()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.status").isEqualTo(400).jsonPath("$.title").isEqualTo("Missing tenant");
		this.client.get().uri("/server").header("X-Tenant-Id", "acme;drop").exchange()
				.expectStatus().isBadRequest()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.title").isEqualTo("Invalid tenant")
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("'acme;drop'"));
	}

	@Test
	void unknownTenantIsANotFoundProblem() {
		this.client.get().uri("/server").header("X-Tenant-Id", "hooli").exchange()
				.expectStatus().isNotFound()
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.status").isEqualTo(404).jsonPath("$.tenant").isEqualTo("hooli");
	}

	@Test
	void aWriteThenAReadInOneRequestSeesTheWriteDespiteTheLaggingReplica() {
		for (int i = 0; i < 10; i++) {
			this.client.post().uri("/notes/{id}", "web-" + UUID.randomUUID()).header("X-Tenant-Id", "lagging").exchange()
					.expectStatus().isOk().expectBody(String.class).isEqualTo("written");
		}
	}

	@Test
	void theCausalTokenOfAWriteGivesTheNextRequestReadYourWrites() {
		int stale = 0;
		int missedWithoutToken = 0;
		for (int i = 0; i < 20; i++) {
			String id = "causal-" + UUID.randomUUID();
			String token = this.client.put().uri("/notes/{id}", id).header("X-Tenant-Id", "causal").exchange()
					.expectStatus().isNoContent()
					.returnResult(Void.class).getResponseHeaders().getFirst("Switchboard-Causal-Token");
			assertThat(token).startsWith("pg-causal@");
			// The next request, as another instance would get it: only the header carries the write.
			if (this.client.get().uri("/notes/{id}", id).header("X-Tenant-Id", "causal")
					.header("Switchboard-Causal-Token", token).exchange().returnResult(String.class).getStatus().value() != 200) {
				stale++;
			}
			if (this.client.get().uri("/notes/{id}", id).header("X-Tenant-Id", "causal").exchange()
					.returnResult(String.class).getStatus().value() == 404) {
				missedWithoutToken++;
			}
		}
		assertThat(stale).isZero();
		assertThat(missedWithoutToken).as("the control: without the token, the 2 s replica misses the write")
				.isGreaterThan(15);
	}

	@Test
	void aMalformedCausalTokenIsABadRequestProblem() {
		this.client.get().uri("/notes/x").header("X-Tenant-Id", "causal").header("Switchboard-Causal-Token", "pg-causal@0/zz")
				.exchange()
				.expectStatus().isBadRequest()
				.expectHeader().contentType("application/problem+json")
				.expectBody().jsonPath("$.title").isEqualTo("Invalid causal token");
	}

	@Test
	void springTransactionsCarryJooqStatementsAndRollBack() {
		String committed = "spring-" + UUID.randomUUID();
		String rolledBack = "spring-" + UUID.randomUUID();

		this.client.post().uri("/spring-tx/{id}", committed).header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isOk();
		this.client.post().uri("/spring-tx/{id}?fail", rolledBack).header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isEqualTo(409);

		assertThat(Sql.query(topology.postgres().connectionFactory(topology.postgres().primary()),
				"SELECT id FROM notes WHERE id IN ($1, $2)", committed, rolledBack))
				.extracting(row -> row.get("id")).containsExactly(committed);
	}

	@Test
	void aTransactionalServiceMethodRunsOnThePrimary() {
		this.client.get().uri("/transactional-server").header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isOk().expectBody(String.class).isEqualTo(String.valueOf(topology.postgres().primary().port()));
	}

	@Test
	void anotherTenantInsideASpringTransactionIsARoutingConflictAndNothingIsCommitted() {
		String id = "conflict-" + UUID.randomUUID();

		this.client.post().uri("/spring-tx-conflict/{id}", id).header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isEqualTo(409).expectBody(String.class).isEqualTo("ROUTING_CONFLICT");

		assertThat(Sql.query(topology.postgres().connectionFactory(topology.postgres().primary()),
				"SELECT id FROM notes WHERE id LIKE $1", id + "%")).isEmpty();
		assertThat(Sql.query(topology.mariadb().connectionFactory(topology.mariadb().primary()),
				"SELECT id FROM notes WHERE id LIKE ?", id + "%")).isEmpty();
	}

	@Test
	void routingDecisionsAndPoolsAreMetered() {
		// Registered at start: an error kind that never happened reads 0 rather than not existing.
		assertThat(this.meters.get("switchboard.routing.errors").tag("kind", "outcome_unknown").counter().count()).isZero();
		this.client.get().uri("/server").header("X-Tenant-Id", "acme").exchange().expectStatus().isOk();

		assertThat(this.meters.get("switchboard.routing.decisions").tag("tenant", "acme").tag("role", "replica")
				.tag("reason", "replica").counter().count()).isPositive();
		// Boot's own pool meters (ConnectionPoolMetrics), one set per pool.
		assertThat(this.meters.get("r2dbc.pool.max.allocated").tag("name", "pg-main/primary").tag("datasource", "pg-main")
				.tag("role", "primary").gauge().value()).isEqualTo(10.0);
		assertThat(this.meters.get("r2dbc.pool.acquired").tag("name", "maria-main/replica-0").tag("role", "replica")
				.gauge()).isNotNull();
		assertThat(this.meters.find("switchboard.pool.max").gauges()).isEmpty();
		assertThat(this.meters.get("switchboard.target.available").tag("pool", "maria-main/replica-0").gauge().value())
				.isEqualTo(1.0);
		this.client.get().uri("/bad-sql").header("X-Tenant-Id", "globex").exchange().expectStatus().isEqualTo(422);
		assertThat(this.meters.get("switchboard.routing.errors").tag("kind", "permanent").counter().count()).isPositive();
	}

	@Test
	void healthReportsEveryServer() {
		// The causal datasource's first lag measurement comes with its first probe, 1 s after start.
		dev.switchboard.r2dbc.test.Await.until(java.time.Duration.ofSeconds(5), () -> health().contains("\"lag\""));
		this.client.get().uri("/actuator/health").exchange()
				.expectStatus().isOk()
				.expectBody()
				.jsonPath("$.status").isEqualTo("UP")
				// Boot's own r2dbc indicator (spring-boot-r2dbc is on the class path) would probe the
				// routed factory without a tenant: it is off.
				.jsonPath("$.components.r2dbc").doesNotExist()
				.jsonPath("$.components.switchboard.status").isEqualTo("UP")
				.jsonPath("$.components.switchboard.components['pg-main-primary'].status").isEqualTo("UP")
				.jsonPath("$.components.switchboard.components['maria-main-replica-0'].details.role").isEqualTo("replica")
				.jsonPath("$.components.switchboard.components['maria-main-replica-0'].details.inRotation").isEqualTo(true)
				// A causal datasource measures its replicas' lag, so health shows it.
				.jsonPath("$.components.switchboard.components['pg-causal-replica-0'].details.lag").exists();
	}

	String health() {
		return this.client.get().uri("/actuator/health").exchange().returnResult(String.class).getResponseBody()
				.collectList().map(parts -> String.join("", parts)).block();
	}
}
