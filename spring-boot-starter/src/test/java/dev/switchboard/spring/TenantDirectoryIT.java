package dev.switchboard.spring;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import dev.switchboard.api.Engine;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.TableTenantSource;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.ConnectionFactory;
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
 * The starter's tenant directory on the dev topology: tenants read from a catalog table on the
 * PostgreSQL primary ({@code switchboard.directory.source=table}), a row inserted served without a
 * restart, an offboarded tenant answered 410 by the tenant filter, and the Actuator endpoint
 * {@code /actuator/switchboard} listing tenants and pools.
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = TestApplication.class, webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
		properties = { "switchboard.directory.source=table", "switchboard.directory.table.datasource=pg-main",
				"switchboard.directory.table.name=" + TenantDirectoryIT.TABLE,
				// Long: a row must be served on the catalog's NOTIFY, not on the next read.
				"switchboard.directory.table.refresh-interval=1m",
				"management.endpoints.web.exposure.include=health,switchboard" })
@AutoConfigureWebTestClient
class TenantDirectoryIT {

	static final String TABLE = "directory_it_tenants";

	static Topology topology = DevDatabases.topology();

	@Autowired
	WebTestClient client;

	@Autowired
	TenantDirectory directory;

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		properties.add("switchboard.datasources.pg-main.primary", () -> pg.url(pg.primary()));
		properties.add("switchboard.datasources.pg-main.replicas[0]", () -> pg.url(pg.replica()));
		properties.add("switchboard.datasources.maria-main.primary", () -> maria.url(maria.primary()));
		properties.add("switchboard.datasources.maria-main.dialect", () -> "MARIADB");
		properties.add("switchboard.tenants.acme.datasource", () -> "pg-main");
	}

	@BeforeAll
	static void createCatalog() {
		ConnectionFactory primary = primary();
		Sql.execute(primary, "DROP TABLE IF EXISTS " + TABLE);
		// The table and its NOTIFY trigger, as TableTenantSource gives them.
		Sql.execute(primary, TableTenantSource.ddl(Engine.POSTGRESQL, TABLE));
		Sql.execute(primary, "INSERT INTO " + TABLE + " (tenant_id, datasource) VALUES ('globex', 'maria-main')");
	}

	static ConnectionFactory primary() {
		return topology.postgres().connectionFactory(topology.postgres().primary());
	}

	@Test
	void theDirectoryIsTheRegistryAndStartsWithTheCatalogsTenants() {
		assertThat(this.directory.tenants()).extracting(TenantId::value).contains("acme", "globex");
		this.client.get().uri("/server").header("X-Tenant-Id", "globex").exchange()
				.expectStatus().isOk()
				.expectBody(String.class).isEqualTo(String.valueOf(topology.mariadb().primary().port()));
	}

	@Test
	void aRowInsertedIntoTheCatalogIsServedWithoutARestart() {
		String tenant = "dir-" + UUID.randomUUID().toString().substring(0, 8);
		this.client.get().uri("/server").header("X-Tenant-Id", tenant).exchange().expectStatus().isNotFound();
		Sql.execute(primary(), "INSERT INTO " + TABLE + " (tenant_id, datasource) VALUES ($1, 'pg-main')", tenant);
		long inserted = System.nanoTime();
		long served = awaitStatus(tenant, 200, Duration.ofSeconds(2));
		System.out.printf("catalog row to first 200: %d ms (refresh interval 1 min: woken by NOTIFY)%n",
				(served - inserted) / 1_000_000);
	}

	@Test
	void anOffboardedTenantIsGone() {
		String tenant = "gone-" + UUID.randomUUID().toString().substring(0, 8);
		this.directory.onboard(tenant, "pg-main").block(Duration.ofSeconds(5));
		this.client.get().uri("/server").header("X-Tenant-Id", tenant).exchange().expectStatus().isOk();
		this.directory.offboard(TenantId.of(tenant)).block(Duration.ofSeconds(5));
		this.client.get().uri("/server").header("X-Tenant-Id", tenant).exchange()
				.expectStatus().isEqualTo(410)
				.expectHeader().contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.expectBody()
				.jsonPath("$.kind").isEqualTo("TENANT_OFFBOARDED")
				.jsonPath("$.tenant").isEqualTo(tenant);
		this.client.get().uri("/server").header("X-Tenant-Id", "never-was").exchange()
				.expectStatus().isNotFound()
				.expectBody().jsonPath("$.kind").isEqualTo("UNKNOWN_TENANT");
	}

	@Test
	@SuppressWarnings("unchecked")
	void theActuatorEndpointListsTenantsAndPools() {
		this.client.get().uri("/server").header("X-Tenant-Id", "acme").exchange().expectStatus().isOk();
		Map<String, Object> report = this.client.get().uri("/actuator/switchboard").exchange()
				.expectStatus().isOk()
				.expectBody(Map.class).returnResult().getResponseBody();
		List<Map<String, Object>> tenants = (List<Map<String, Object>>) report.get("tenants");
		assertThat(tenants).anySatisfy(tenant -> assertThat(tenant).containsEntry("id", "acme")
				.containsEntry("placement", "pg-main").containsEntry("state", "ACTIVE").containsEntry("connections", 0));
		assertThat(tenants).anySatisfy(tenant -> assertThat(tenant).containsEntry("id", "globex")
				.containsEntry("placement", "maria-main"));
		List<Map<String, Object>> dataSources = (List<Map<String, Object>>) report.get("datasources");
		assertThat(dataSources).extracting(dataSource -> dataSource.get("name")).containsExactly("pg-main", "maria-main");
		List<Map<String, Object>> pools = (List<Map<String, Object>>) dataSources.get(0).get("pools");
		assertThat(pools).extracting(pool -> pool.get("name")).containsExactly("pg-main/primary", "pg-main/replica-0");
		assertThat(pools).allSatisfy(pool -> assertThat(pool).containsEntry("max", 10).containsEntry("acquired", 0)
				.containsKeys("idle", "allocated", "pending"));
		// Read-only: no write operation is mapped.
		this.client.post().uri("/actuator/switchboard").contentType(MediaType.APPLICATION_JSON).bodyValue("{}")
				.exchange().expectStatus().is4xxClientError();
	}

	/** Ask for the tenant until it answers {@code status}; return when it first did. */
	private long awaitStatus(String tenant, int status, Duration within) {
		long deadline = System.nanoTime() + within.toNanos();
		while (true) {
			int got = this.client.get().uri("/server").header("X-Tenant-Id", tenant).exchange()
					.returnResult(String.class).getStatus().value();
			if (got == status) {
				return System.nanoTime();
			}
			assertThat(System.nanoTime()).as("tenant %s answered %s, not %s, within %s", tenant, got, status, within)
					.isLessThan(deadline);
			try {
				Thread.sleep(50);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException(ex);
			}
		}
	}
}
