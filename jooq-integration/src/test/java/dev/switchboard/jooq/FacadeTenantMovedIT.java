package dev.switchboard.jooq;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

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
import org.jooq.impl.SQLDataType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A tenant moved from PostgreSQL to MariaDB between the moment the facade resolved its datasource
 * (and rendered the call's SQL in PostgreSQL's dialect) and the moment the statement was routed:
 * the statement is refused with {@code TENANT_MOVED}, never sent to MariaDB, and its connection
 * goes back; a query is rendered again for MariaDB and runs there, write work fails with the
 * error. On the code before, PostgreSQL's SQL ran on MariaDB.
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
	void aQueryRenderedForTheDatasourceItsTenantLeftIsRenderedAgainForTheNewOneAndNotSentToTheWrongEngine() {
		// The call's function runs after the facade resolved the tenant, before jOOQ routes its
		// statement: the first time, the move lands in between. A cast to VARCHAR, as PostgreSQL's
		// dialect renders it, is a syntax error on MariaDB; MariaDB's dialect renders it as CHAR.
		AtomicInteger calls = new AtomicInteger();
		Object answer = this.db.query(dsl -> {
			if (calls.incrementAndGet() == 1) {
				// Subscribed, not blocked on: with no connection out, nothing is left to drain.
				this.directory.move(ACME, Placement.on("maria-main")).subscribe();
			}
			return dsl.select(DSL.inline("moved").cast(SQLDataType.VARCHAR(10)));
		}).map(record -> (Object) record.value1()).onErrorResume(Mono::just).contextWrite(RoutingContext.forTenant("acme"))
				.blockLast(Duration.ofSeconds(10));

		System.out.println("facade query across a move: " + answer + " after " + calls.get() + " renderings");
		assertThat(answer).isEqualTo("moved");
		assertThat(calls).hasValue(2);
		assertThat(this.directory.entries()).filteredOn(entry -> entry.tenant().equals(ACME))
				.extracting(DirectoryEntry::connections).containsOnly(0L);
	}

	@Test
	void writeWorkIsNotMadeAgainButFailsAsMovedWithNothingSent() {
		Object answer = this.db.write(dsl -> {
			this.directory.move(ACME, Placement.on("maria-main")).subscribe();
			return dsl.select(DSL.inline("moved").cast(SQLDataType.VARCHAR(10)));
		}).map(record -> (Object) record.value1()).onErrorResume(Mono::just).contextWrite(RoutingContext.forTenant("acme"))
				.blockLast(Duration.ofSeconds(10));

		System.out.println("facade write work across a move: " + answer);
		assertThat(answer).isInstanceOfSatisfying(DataError.class, error -> {
			assertThat(error.kind()).isEqualTo(DataError.Kind.TENANT_MOVED);
			assertThat(error.getMessage()).contains("moved from datasource 'pg-main' to 'maria-main'");
		});
	}
}
