package dev.switchboard.r2dbc;

import java.util.List;
import java.util.Map;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing on the real topology: where statements run is asked of the servers themselves, not of
 * Switchboard's own state.
 */
@ExtendWith(DevDatabases.class)
class RoutingIT {

	static final String PG_TENANT = "acme";

	static final String MARIA_TENANT = "globex";

	static Topology topology;

	static ReplicatedDataSource postgres;

	static ReplicatedDataSource mariadb;

	static RoutingConnectionFactory routing;

	@BeforeAll
	static void setUp(Topology found) {
		topology = found;
		postgres = Fixtures.dataSource("pg-main", found.postgres(), 4, found.postgres().replica());
		mariadb = Fixtures.dataSource("maria-main", found.mariadb(), 4, found.mariadb().replica());
		routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(postgres)
				.dataSource(mariadb)
				.tenant(PG_TENANT, "pg-main")
				.tenant(MARIA_TENANT, "maria-main")
				.build());
		Sql.execute(found.postgres().connectionFactory(found.postgres().primary()),
				"CREATE TABLE IF NOT EXISTS routing_probe (id VARCHAR(64) PRIMARY KEY)");
		Sql.execute(found.mariadb().connectionFactory(found.mariadb().primary()),
				"CREATE TABLE IF NOT EXISTS routing_probe (id VARCHAR(64) PRIMARY KEY)");
	}

	@AfterAll
	static void tearDown() {
		routing.close();
	}

	static String tenant(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? PG_TENANT : MARIA_TENANT;
	}

	/** Ask the server which port it listens on and whether it is read-only. */
	static Mono<Map<String, Object>> whoServes() {
		return Flux.usingWhen(routing.create(), RoutingIT::askServer, Connection::close).single();
	}

	static Flux<Map<String, Object>> askServer(Connection connection) {
		boolean postgresql = connection.getMetadata().getDatabaseProductName().contains("PostgreSQL");
		String sql = postgresql
				? "SELECT inet_server_port() AS port, pg_is_in_recovery() AS read_only"
				: "SELECT @@port AS port, @@read_only AS read_only";
		return Flux.from(connection.createStatement(sql).execute())
				.concatMap(result -> result.map(row -> Map.<String, Object>of(
						"port", ((Number) row.get("port")).intValue(),
						"read_only", readOnly(row.get("read_only")))));
	}

	static boolean readOnly(Object value) {
		return value instanceof Boolean b ? b : ((Number) value).intValue() != 0;
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void writeRunsOnThePrimary(Topology.Kind kind) {
		Map<String, Object> server = whoServes()
				.contextWrite(RoutingContext.intent(AccessIntent.WRITE))
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.block();

		assertThat(server).containsEntry("port", topology.engine(kind).primary().port())
				.containsEntry("read_only", false);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void readRunsOnAReplica(Topology.Kind kind) {
		Map<String, Object> server = whoServes()
				.contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.block();

		assertThat(server).containsEntry("port", topology.engine(kind).replica().port())
				.containsEntry("read_only", true);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void undeclaredIntentRunsOnThePrimary(Topology.Kind kind) {
		Map<String, Object> server = whoServes().contextWrite(RoutingContext.forTenant(tenant(kind))).block();

		assertThat(server).containsEntry("port", topology.engine(kind).primary().port());
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void readAfterAWriteInTheSameRequestIsServedByThePrimary(Topology.Kind kind) {
		List<Map<String, Object>> servers = whoServes().contextWrite(RoutingContext.intent(AccessIntent.WRITE))
				.concatWith(whoServes().contextWrite(RoutingContext.intent(AccessIntent.READ)))
				.collectList()
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.block();

		assertThat(servers).extracting(server -> server.get("port"))
				.containsExactly(topology.engine(kind).primary().port(), topology.engine(kind).primary().port());
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void springDatabaseClientIsRoutedToo(Topology.Kind kind) {
		DatabaseClient client = DatabaseClient.create(routing);
		String sql = kind == Topology.Kind.POSTGRESQL ? "SELECT inet_server_port() AS port" : "SELECT @@port AS port";

		Integer port = client.sql(sql)
				.map(row -> ((Number) row.get("port")).intValue())
				.one()
				.contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.block();

		assertThat(port).isEqualTo(topology.engine(kind).replica().port());
	}

	@Test
	void missingContextIsAClassifiedErrorAndNothingRuns() {
		String id = "missing-" + System.nanoTime();
		StepVerifier.create(insert(id))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class,
						e -> assertThat(e.kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT)))
				.verify();
		assertNotWritten(id);
	}

	@Test
	void unknownTenantIsAClassifiedErrorNamingTheTenantAndNothingRuns() {
		String id = "unknown-" + System.nanoTime();
		StepVerifier.create(insert(id).contextWrite(RoutingContext.forTenant("initech")))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.UNKNOWN_TENANT);
					assertThat(e.tenant()).isEqualTo("initech");
					assertThat(e.getMessage()).contains("initech");
				}))
				.verify();
		assertNotWritten(id);
	}

	@Test
	void invalidTenantIdIsAClassifiedErrorNamingTheValueAndNothingRuns() {
		String id = "invalid-" + System.nanoTime();
		StepVerifier.create(Mono.defer(() -> insert(id).contextWrite(RoutingContext.forTenant("acme; DROP TABLE"))))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID);
					assertThat(e.getMessage()).contains("'acme; DROP TABLE'");
				}))
				.verify();
		assertNotWritten(id);
	}

	@Test
	void databaseFailuresAreClassifiedWithTenantDataSourceRoleAndSqlState() {
		Mono<Long> badSql = Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement("SELEC 1").execute()).concatMap(r -> r.getRowsUpdated()),
				Connection::close).next();

		StepVerifier.create(badSql.contextWrite(RoutingContext.forTenant(PG_TENANT)))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.PERMANENT);
					assertThat(e.sqlState()).isEqualTo("42601");
					assertThat(e.getMessage()).contains("tenant=acme", "datasource=pg-main", "role=primary",
							"sqlstate=42601");
					assertThat(e.getCause()).isInstanceOf(io.r2dbc.spi.R2dbcException.class);
				}))
				.verify();
	}

	@Test
	void metadataOfMixedEnginesNamesThemAll() {
		assertThat(routing.getMetadata().getName()).startsWith(RoutingConnectionFactory.MIXED_NAME)
				.contains("PostgreSQL", "MySQL");
	}

	Mono<Long> insert(String id) {
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement("INSERT INTO routing_probe (id) VALUES ($1)")
						.bind(0, id).execute()).concatMap(r -> r.getRowsUpdated()),
				Connection::close).next();
	}

	void assertNotWritten(String id) {
		for (Topology.Kind kind : Topology.Kind.values()) {
			Topology.Engine engine = topology.engine(kind);
			String placeholder = kind.placeholder();
			assertThat(Sql.query(engine.connectionFactory(engine.primary()),
					"SELECT id FROM routing_probe WHERE id = " + placeholder, id)).isEmpty();
		}
		assertThat(Fixtures.acquired(postgres) + Fixtures.acquired(mariadb)).isZero();
	}

	static TenantId id(String tenant) {
		return TenantId.of(tenant);
	}
}
