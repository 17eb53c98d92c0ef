package dev.switchboard.spring;

import java.nio.charset.StandardCharsets;
import java.util.UUID;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.web.reactive.server.WebTestClient;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every failure a WebFlux application meets through Switchboard is answered with an RFC 9457
 * problem detail and a status that fits (see {@link SwitchboardProblems}): a {@code DataError} from
 * a handler, a refusal of the tenant filter, an unmapped path, an oversized body.
 */
@ExtendWith({ DevDatabases.class, OutputCaptureExtension.class })
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		// A datasource whose server is down on purpose (the 503 case): the start must not verify it.
		properties = { "switchboard.web.excluded-paths=/actuator/**,/no-tenant/**", "switchboard.startup.verify=false" })
@AutoConfigureWebTestClient
class ProblemDetailsIT {

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		properties.add("switchboard.datasources.pg-main.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-main.replicas[0]", () -> pg.url(pg.replica()));
		properties.add("switchboard.datasources.maria-main.primary", () -> maria.url(maria.primary()));
		properties.add("switchboard.datasources.maria-main.dialect", () -> "MARIADB");
		// Nothing listens on port 1: every statement of this tenant fails to connect.
		properties.add("switchboard.datasources.down.primary", () -> "r2dbc:postgresql://postgres@127.0.0.1:1/postgres");
		properties.add("switchboard.datasources.down.pool.max-acquire-time", () -> "2s");
		properties.add("switchboard.tenants.acme.datasource", () -> "pg-main");
		properties.add("switchboard.tenants.globex.datasource", () -> "maria-main");
		properties.add("switchboard.tenants.down.datasource", () -> "down");
	}

	@BeforeAll
	static void createTables() {
		Sql.execute(topology.postgres().connectionFactory(topology.postgres().primary()),
				"CREATE TABLE IF NOT EXISTS notes (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, body VARCHAR(200))");
	}

	@Test
	void aPermanentDataErrorFromAHandlerIsA500ProblemThatQuotesNoSql() {
		problem(this.client.get().uri("/raw/bad-sql").header("X-Tenant-Id", "acme"), 500)
				.jsonPath("$.kind").isEqualTo("PERMANENT")
				.jsonPath("$.tenant").isEqualTo("acme")
				.jsonPath("$.datasource").isEqualTo("pg-main")
				.jsonPath("$.sqlState").isEqualTo("42601")
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).doesNotContain("SELEC"));
	}

	@Test
	void aRoutingConflictFromAHandlerIsA409Problem() {
		String id = "problem-" + UUID.randomUUID();
		problem(this.client.post().uri("/raw/conflict/{id}", id).header("X-Tenant-Id", "acme"), 409)
				.jsonPath("$.kind").isEqualTo("ROUTING_CONFLICT");
		assertThat(Sql.query(topology.postgres().connectionFactory(topology.postgres().primary()),
				"SELECT id FROM notes WHERE id = $1", id)).isEmpty();
	}

	@Test
	void aServerThatCannotBeReachedIsA503ProblemWithRetryAfter() {
		this.client.get().uri("/server").header("X-Tenant-Id", "down").exchange()
				.expectStatus().isEqualTo(503)
				.expectHeader().valueEquals(HttpHeaders.RETRY_AFTER, "1")
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.status").isEqualTo(503)
				.jsonPath("$.kind").isEqualTo("TRANSIENT")
				.jsonPath("$.datasource").isEqualTo("down");
	}

	@Test
	void aWriteThatAReplicaRefusesIsA500ProblemNotARetry(CapturedOutput output) {
		// A write declared a read reaches a replica again on every retry: a bug of the caller,
		// classified PERMANENT; only the primary's read-only refusal (a failover) is transient.
		String id = "problem-" + UUID.randomUUID();
		this.client.post().uri("/raw/write-as-read/{id}", id).header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isEqualTo(500)
				.expectHeader().doesNotExist(HttpHeaders.RETRY_AFTER)
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.kind").isEqualTo("PERMANENT")
				.jsonPath("$.role").isEqualTo("replica")
				.jsonPath("$.sqlState").isEqualTo("25006");
		// The body hides the driver's message; the server's log keeps it for the operator.
		assertThat(output.getOut()).contains("Switchboard: POST /raw/write-as-read/" + id + " answered 500")
				.contains("25006");
		assertThat(Sql.query(topology.postgres().connectionFactory(topology.postgres().primary()),
				"SELECT id FROM notes WHERE id = $1", id)).isEmpty();
	}

	@Test
	void anUnknownOutcomeIsA500ProblemWithoutRetryAfter() {
		this.client.get().uri("/raw/outcome-unknown").header("X-Tenant-Id", "acme").exchange()
				.expectStatus().isEqualTo(500)
				.expectHeader().doesNotExist(HttpHeaders.RETRY_AFTER)
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.kind").isEqualTo("OUTCOME_UNKNOWN")
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("may or may not"));
	}

	@Test
	void aQueryWithoutRoutingContextIsA400Problem() {
		problem(this.client.get().uri("/no-tenant/server"), 400).jsonPath("$.kind").isEqualTo("MISSING_CONTEXT");
	}

	@Test
	void theFilterRefusalsAreProblemsOfTheSamePath() {
		problem(this.client.get().uri("/server"), 400)
				.jsonPath("$.title").isEqualTo("Missing tenant").jsonPath("$.instance").isEqualTo("/server");
		problem(this.client.get().uri("/server").header("X-Tenant-Id", "acme;drop"), 400)
				.jsonPath("$.kind").isEqualTo("INVALID_TENANT_ID");
		problem(this.client.get().uri("/server").header("X-Tenant-Id", "hooli"), 404)
				.jsonPath("$.kind").isEqualTo("UNKNOWN_TENANT").jsonPath("$.tenant").isEqualTo("hooli");
		problem(this.client.get().uri("/server").header("X-Tenant-Id", "acme").header("Switchboard-Causal-Token", "x@y"), 400)
				.jsonPath("$.kind").isEqualTo("INVALID_CAUSAL_TOKEN");
	}

	@Test
	void twoTenantHeadersAreABadRequestNotTheFirstOne() {
		problem(this.client.get().uri("/server").header("X-Tenant-Id", "acme", "globex"), 400)
				.jsonPath("$.kind").isEqualTo("INVALID_TENANT_ID")
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("2 X-Tenant-Id headers"));
	}

	@Test
	void aNonAsciiTenantIsEchoedAsSentAndALongOneTruncated() {
		// The bytes curl sends for "acmé": UTF-8, which the server reads one byte per character.
		String utf8 = new String("acmé".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
		problem(this.client.get().uri("/server").header("X-Tenant-Id", utf8), 400)
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("'acmé'"));
		problem(this.client.get().uri("/server").header("X-Tenant-Id", "a\"b".repeat(100)), 400)
				.jsonPath("$.detail").value(detail -> assertThat((String) detail).contains("a\"ba\"b").hasSizeLessThan(200));
	}

	@Test
	void anUnknownPathIsNotFoundWhateverTheTenant() {
		problem(this.client.get().uri("/nothing-here"), 404);
		problem(this.client.get().uri("/nothing-here").header("X-Tenant-Id", "acme"), 404);
		problem(this.client.get().uri("/nothing-here").header("X-Tenant-Id", "hooli"), 404);
		problem(this.client.get().uri("/nothing-here").header("X-Tenant-Id", "acme;drop"), 404);
	}

	@Test
	void aBodyOverTheCodecLimitIsA413Problem() {
		problem(this.client.post().uri("/echo").header("X-Tenant-Id", "acme").contentType(MediaType.TEXT_PLAIN)
				.bodyValue("x".repeat(300 * 1024)), 413);
		this.client.post().uri("/echo").header("X-Tenant-Id", "acme").contentType(MediaType.TEXT_PLAIN)
				.bodyValue("x".repeat(1024)).exchange()
				.expectStatus().isOk().expectBody(String.class).isEqualTo("1024");
	}

	@Test
	void aCausalTokenOfAnotherTenantsDatasourceIsIgnoredAndNotEchoed() {
		this.client.get().uri("/server").header("X-Tenant-Id", "acme").header("Switchboard-Causal-Token", "maria-main@0-1-42")
				.exchange()
				.expectStatus().isOk()
				.expectHeader().doesNotExist("Switchboard-Causal-Token");
	}

	WebTestClient.BodyContentSpec problem(WebTestClient.RequestHeadersSpec<?> request, int status) {
		return request.exchange()
				.expectStatus().isEqualTo(status)
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody().jsonPath("$.status").isEqualTo(status);
	}
}
