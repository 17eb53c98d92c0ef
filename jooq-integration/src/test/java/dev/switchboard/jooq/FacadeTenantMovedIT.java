package dev.switchboard.jooq;

import java.time.Duration;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.DirectoryEntry;
import dev.switchboard.r2dbc.Placement;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tenant moved from PostgreSQL to MariaDB between the moment the facade resolved its datasource
 * (and rendered the call's SQL in PostgreSQL's dialect) and the moment the statement was routed:
 * the statement fails with a retryable {@code TRANSIENT} error naming both datasources, is never
 * sent to MariaDB, and its connection goes back. On the code before, it ran on MariaDB.
 */
@ExtendWith(DevDatabases.class)
class FacadeTenantMovedIT {

	static final TenantId ACME = TenantId.of("acme");

	TenantDirectory directory;

	RoutingConnectionFactory routing;

	TenantDatabase db;

	@BeforeEach
	void setUp(Topology topology) {
		ReplicatedDataSource pg = Fixtures.dataSource("pg-main", topology.postgres(), 2, topology.postgres().replica());
		ReplicatedDataSource maria = Fixtures.dataSource("maria-main", topology.mariadb(), 2,
				topology.mariadb().replica());
		this.directory = TenantDirectory.builder().dataSource(pg).dataSource(maria).tenant("acme", "pg-main").build();
		this.routing = new RoutingConnectionFactory(this.directory);
		this.db = RoutedDsl.builder(this.routing).dialect("pg-main", SQLDialect.POSTGRES)
				.dialect("maria-main", SQLDialect.MARIADB).build().database();
	}

	@AfterEach
	void tearDown() {
		this.routing.close();
	}

	@Test
	void aCallRenderedForTheDatasourceItsTenantLeftFailsAsMovedAndRunsNowhere() {
		// The work's function runs after the facade resolved the tenant, before jOOQ routes its
		// statement: the move lands in between. PostgreSQL's ::text cast is a syntax error on MariaDB.
		Object answer = this.db.query(dsl -> {
			// Subscribed, not blocked on: the facade retries a read on an event loop. The change is
			// made on subscription; with no connection out, nothing is left to drain.
			this.directory.move(ACME, Placement.on("maria-main")).subscribe();
			return dsl.select(DSL.field("'pg'::text", String.class));
		}).map(Object.class::cast).onErrorResume(Mono::just).contextWrite(RoutingContext.forTenant("acme"))
				.blockLast(Duration.ofSeconds(10));

		System.out.println("facade call across a move: " + answer);
		assertThat(answer).isInstanceOfSatisfying(DataError.class, error -> {
			assertThat(error.kind()).isEqualTo(DataError.Kind.TRANSIENT);
			assertThat(error.getMessage()).contains("moved from datasource 'pg-main' to 'maria-main'");
		});
		assertThat(this.directory.entries()).filteredOn(entry -> entry.tenant().equals(ACME))
				.extracting(DirectoryEntry::connections).containsOnly(0L);
		// The next call resolves the tenant again, renders for MariaDB and runs there.
		String engine = this.db.query(dsl -> dsl.select(DSL.field("@@version_comment", String.class)))
				.map(record -> record.value1()).contextWrite(RoutingContext.forTenant("acme"))
				.blockLast(Duration.ofSeconds(10));
		assertThat(engine).isNotNull();
	}
}
