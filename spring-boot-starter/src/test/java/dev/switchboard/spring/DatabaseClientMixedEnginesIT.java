package dev.switchboard.spring;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.switchboard.api.DataError;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.binding.BindMarkersFactory;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Spring's {@code DatabaseClient} over one routed factory whose tenants run on PostgreSQL
 * ({@code $1} markers) and MariaDB ({@code ?} markers): the starter's client binds each tenant's
 * named parameters with its engine's markers, and a plain client is refused when built. A bind the
 * driver refuses stays the R2DBC SPI's argument failure, which its TCK requires.
 */
@ExtendWith(DevDatabases.class)
class DatabaseClientMixedEnginesIT {

	static final Topology topology = DevDatabases.topology();

	static ConfigurableApplicationContext context;

	/** A plain Boot application: only auto-configuration. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class MixedApplication {
	}

	@BeforeAll
	static void start() {
		for (Topology.Kind kind : Topology.Kind.values()) {
			Topology.Engine engine = topology.engine(kind);
			Sql.execute(engine.connectionFactory(engine.primary()),
					"CREATE TABLE IF NOT EXISTS dbc_notes (id VARCHAR(64) PRIMARY KEY, label VARCHAR(64))");
			engine.awaitTable("dbc_notes");
		}
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		context = new SpringApplicationBuilder(MixedApplication.class).web(WebApplicationType.NONE)
				.properties(Map.of("switchboard.datasources.pg-main.primary", pg.url(pg.primary()),
						"switchboard.datasources.maria-main.primary", maria.url(maria.primary()),
						"switchboard.datasources.maria-main.dialect", "MARIADB",
						"switchboard.tenants.acme.datasource", "pg-main",
						"switchboard.tenants.globex.datasource", "maria-main"))
				.run();
	}

	@AfterAll
	static void stop() {
		if (context != null) {
			context.close();
		}
	}

	static String tenantOn(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? "acme" : "globex";
	}

	static String dataSourceOf(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? "pg-main" : "maria-main";
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void namedParametersRunForTenantsOfBothEnginesThroughOneRoutedFactory(Topology.Kind kind) {
		DatabaseClient client = context.getBean(DatabaseClient.class);
		assertThat(client.getConnectionFactory()).isSameAs(context.getBean(RoutingConnectionFactory.class));
		String id = "dbc-" + UUID.randomUUID();
		String label = "it's :id";

		StepVerifier.create(client.sql("INSERT INTO dbc_notes (id, label) VALUES (:id, :label)")
				.bind("id", id).bind("label", label)
				.fetch().rowsUpdated()
				.contextWrite(RoutingContext.forTenant(tenantOn(kind))))
				.expectNext(1L).verifyComplete();
		// A repeated parameter, and a string literal that looks like one and must stay a literal.
		StepVerifier.create(client.sql("SELECT label FROM dbc_notes WHERE id = :id AND (label <> :id OR label = ':id')")
				.bind("id", id)
				.map(row -> row.get("label", String.class)).one()
				.contextWrite(RoutingContext.forTenant(tenantOn(kind))))
				.expectNext(label).verifyComplete();

		Topology.Engine engine = topology.engine(kind);
		assertThat(Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT label FROM dbc_notes WHERE id = " + kind.placeholder(), id))
				.extracting(row -> row.get("label")).containsExactly(label);
	}

	@Test
	void aPlainDatabaseClientOverTheMixedFactoryIsRefusedWhenBuilt() {
		RoutingConnectionFactory routing = context.getBean(RoutingConnectionFactory.class);

		assertThatThrownBy(() -> DatabaseClient.create(routing))
				.isInstanceOf(BindMarkersFactoryResolver.NoBindMarkersFactoryException.class)
				// r2dbc-mysql reports MySQL for MariaDB servers too.
				.hasMessageContaining("PostgreSQL binds $1")
				.hasMessageContaining("MySQL binds ?")
				.hasMessageContaining("SwitchboardDatabaseClient.create(routingConnectionFactory)");
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aBindTheDriverRefusesFailsWithTheSpisArgumentErrorBeforeAnythingIsSent(Topology.Kind kind) {
		// The other engine's markers: what a plain client over the mixed factory used to pick.
		BindMarkersFactory wrong = kind == Topology.Kind.POSTGRESQL ? BindMarkersFactory.anonymous("?")
				: BindMarkersFactory.indexed("$", 1);
		DatabaseClient client = DatabaseClient.builder().connectionFactory(context.getBean(RoutingConnectionFactory.class))
				.bindMarkers(wrong).build();

		StepVerifier.create(client.sql("SELECT id FROM dbc_notes WHERE id = :id").bind("id", "x")
				.fetch().all()
				.contextWrite(RoutingContext.forTenant(tenantOn(kind))))
				.expectErrorSatisfies(failure -> {
					Throwable root = failure;
					while (root.getCause() != null) {
						root = root.getCause();
					}
					assertThat(root).isInstanceOfAny(IndexOutOfBoundsException.class, IllegalArgumentException.class,
							UnsupportedOperationException.class);
					assertThat(DataError.find(failure)).as("not a database failure").isNull();
				})
				.verify(Duration.ofSeconds(30));
	}

	@Test
	void aStatementWithoutATenantIsRoutingsMissingContextError() {
		StepVerifier.create(context.getBean(DatabaseClient.class).sql("SELECT 1").fetch().all())
				.expectErrorSatisfies(failure -> assertThat(DataError.find(failure)).isNotNull()
						.extracting(DataError::kind).isEqualTo(DataError.Kind.MISSING_CONTEXT))
				.verify(Duration.ofSeconds(30));
	}
}
