package dev.switchboard.spring;

import java.time.Duration;
import java.util.UUID;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.Placement;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.jooq.Record1;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tenant onboarded on a datasource added to the directory at runtime is served by every client
 * the starter built at boot, before that datasource existed: the plain {@code DSLContext}
 * ({@code RoutedDsl.dsl()}), the {@link TenantDatabase} facade, Spring's {@code DatabaseClient}
 * (one engine, and mixed engines), and its pools are metered. Each write is counted on the server
 * with a client of its own.
 */
@ExtendWith(DevDatabases.class)
class LateDataSourceIT {

	static Topology topology = DevDatabases.topology();

	static final String TABLE = "late_datasource_it";

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
			.withUserConfiguration(Meters.class);

	@Configuration(proxyBeanMethods = false)
	static class Meters {

		@Bean
		MeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}
	}

	@BeforeAll
	static void createTables() {
		Sql.execute(pg(), "CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(64) PRIMARY KEY, via VARCHAR(32) NOT NULL)");
		Sql.execute(maria(), "CREATE TABLE IF NOT EXISTS " + TABLE + " (id VARCHAR(64) PRIMARY KEY, via VARCHAR(32) NOT NULL)");
	}

	static io.r2dbc.spi.ConnectionFactory pg() {
		return topology.postgres().connectionFactory(topology.postgres().primary());
	}

	static io.r2dbc.spi.ConnectionFactory maria() {
		return topology.mariadb().connectionFactory(topology.mariadb().primary());
	}

	@Test
	void aTenantOnALateDataSourceIsServedByDslDatabaseAndDatabaseClient() {
		Topology.Engine pg = topology.postgres();
		this.runner.withPropertyValues("switchboard.datasources.pg-main.primary=" + pg.url(pg.primary()),
				"switchboard.tenants.acme.datasource=pg-main").run(context -> {
			assertThat(context).hasNotFailed();
			TenantDirectory directory = context.getBean(TenantDirectory.class);
			String tenant = "late-" + UUID.randomUUID().toString().substring(0, 8);
			directory.addDataSource(ReplicatedDataSource.builder("pg-late").primary(pg.url(pg.primary())).build())
					.then(directory.onboard(TenantId.of(tenant), Placement.on("pg-late")))
					.block(Duration.ofSeconds(5));

			RoutedDsl routed = context.getBean(RoutedDsl.class);
			Mono.from(routed.dsl().insertInto(DSL.table(TABLE), DSL.field("id"), DSL.field("via")).values(tenant + "-dsl", "dsl"))
					.contextWrite(RoutingContext.forTenant(tenant)).block(Duration.ofSeconds(10));
			context.getBean(TenantDatabase.class)
					.write(dsl -> dsl.insertInto(DSL.table(TABLE), DSL.field("id"), DSL.field("via")).values(tenant + "-db", "database"))
					.contextWrite(RoutingContext.forTenant(tenant)).blockLast(Duration.ofSeconds(10));
			context.getBean(DatabaseClient.class).sql("INSERT INTO " + TABLE + " (id, via) VALUES (:id, :via)")
					.bind("id", tenant + "-client").bind("via", "client").fetch().rowsUpdated()
					.contextWrite(RoutingContext.forTenant(tenant)).block(Duration.ofSeconds(10));

			assertThat(Sql.query(pg(), "SELECT via FROM " + TABLE + " WHERE id LIKE $1 ORDER BY via", tenant + "-%"))
					.extracting(row -> row.get("via")).containsExactly("client", "database", "dsl");
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			assertThat(meters.find("switchboard.directory.changes").tag("kind", "datasource-added").counter().count())
					.isEqualTo(1);
		});
	}

	@Test
	void aTenantOnALateDataSourceOfTheOtherEngineBindsWithItsMarkers() {
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		this.runner.withPropertyValues("switchboard.datasources.pg-main.primary=" + pg.url(pg.primary()),
				"switchboard.datasources.maria-main.primary=" + maria.url(maria.primary()),
				"switchboard.datasources.maria-main.dialect=MARIADB",
				"switchboard.tenants.acme.datasource=pg-main", "switchboard.tenants.globex.datasource=maria-main")
				.run(context -> {
			assertThat(context).hasNotFailed();
			PoolMetricsBinder binder = context.getBean(PoolMetricsBinder.class);
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			binder.bindTo(meters);
			TenantDirectory directory = context.getBean(TenantDirectory.class);
			String tenant = "late-" + UUID.randomUUID().toString().substring(0, 8);
			directory.addDataSource(ReplicatedDataSource.builder("maria-late").primary(maria.url(maria.primary())).build())
					.then(directory.onboard(TenantId.of(tenant), Placement.on("maria-late")))
					.block(Duration.ofSeconds(5));

			String port = context.getBean(TenantDatabase.class)
					.read(dsl -> dsl.select(DSL.field("@@port", Integer.class)))
					.next().map(Record1::value1).map(String::valueOf)
					.contextWrite(RoutingContext.forTenant(tenant)).block(Duration.ofSeconds(10));
			assertThat(port).isEqualTo(String.valueOf(maria.primary().port()));
			context.getBean(DatabaseClient.class).sql("INSERT INTO " + TABLE + " (id, via) VALUES (:id, :via)")
					.bind("id", tenant + "-client").bind("via", "client").fetch().rowsUpdated()
					.contextWrite(RoutingContext.forTenant(tenant)).block(Duration.ofSeconds(10));
			assertThat(Sql.query(maria(), "SELECT via FROM " + TABLE + " WHERE id = ?", tenant + "-client")).hasSize(1);

			assertThat(meters.find("r2dbc.pool.max.allocated").tag("datasource", "maria-late").gauge()).isNotNull();
			directory.offboard(TenantId.of(tenant)).then(directory.removeDataSource("maria-late")).block(Duration.ofSeconds(5));
			assertThat(meters.find("r2dbc.pool.max.allocated").tag("datasource", "maria-late").gauge()).isNull();
		});
	}
}
