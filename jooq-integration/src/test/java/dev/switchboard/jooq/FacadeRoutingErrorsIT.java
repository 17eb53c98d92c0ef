package dev.switchboard.jooq;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.RoutingListener;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.SQLDialect;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.util.context.ContextView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing failures of the {@link TenantDatabase} facade, on the real topology: each reaches the
 * routing factory's listener, so {@code switchboard.routing.errors} counts it as it counts those
 * of plain R2DBC over the routing factory.
 */
@ExtendWith(DevDatabases.class)
class FacadeRoutingErrorsIT {

	static final String PG = "acme";

	static final String MARIA = "globex";

	static final Queue<DataError> failures = new ConcurrentLinkedQueue<>();

	static RoutingConnectionFactory routing;

	static TenantDatabase db;

	@BeforeAll
	static void setUp(Topology topology) {
		ReplicatedDataSource pg = Fixtures.dataSource("pg-main", topology.postgres(), 2, topology.postgres().replica());
		ReplicatedDataSource maria = Fixtures.dataSource("maria-main", topology.mariadb(), 2, topology.mariadb().replica());
		routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(pg).dataSource(maria).tenant(PG, "pg-main").tenant(MARIA, "maria-main").build(),
				new RoutingListener() {
					@Override
					public void failed(ContextView context, DataError error) {
						failures.add(error);
					}
				});
		db = RoutedDsl.builder(routing).dialect("pg-main", SQLDialect.POSTGRES).dialect("maria-main", SQLDialect.MARIADB)
				.build().database();
	}

	@AfterAll
	static void tearDown() {
		routing.close();
	}

	@BeforeEach
	void forgetFailures() {
		failures.clear();
	}

	static Flux<Integer> one() {
		return db.query(dsl -> dsl.selectOne()).map(record -> record.value1());
	}

	static List<DataError.Kind> reported() {
		return failures.stream().map(DataError::kind).toList();
	}

	static void expectKind(Flux<?> pipeline, DataError.Kind kind) {
		StepVerifier.create(pipeline)
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class,
						e -> assertThat(e.kind()).isEqualTo(kind)))
				.verify();
	}

	@Test
	void aMissingContextOfTheFacadeIsReportedToTheListener() {
		expectKind(one(), DataError.Kind.MISSING_CONTEXT);
		expectKind(db.read(dsl -> dsl.selectOne()), DataError.Kind.MISSING_CONTEXT);
		expectKind(db.transactional(dsl -> dsl.selectOne()), DataError.Kind.MISSING_CONTEXT);

		assertThat(reported()).containsExactly(DataError.Kind.MISSING_CONTEXT, DataError.Kind.MISSING_CONTEXT,
				DataError.Kind.MISSING_CONTEXT);
	}

	@Test
	void anUnknownTenantOfTheFacadeIsReportedToTheListener() {
		expectKind(one().contextWrite(RoutingContext.forTenant("hooli")), DataError.Kind.UNKNOWN_TENANT);
		expectKind(db.execute(dsl -> dsl.query("select 1")).flux().contextWrite(RoutingContext.forTenant("hooli")),
				DataError.Kind.UNKNOWN_TENANT);

		assertThat(reported()).containsExactly(DataError.Kind.UNKNOWN_TENANT, DataError.Kind.UNKNOWN_TENANT);
	}

	@Test
	void aRoutingConflictOfTheFacadeIsReportedToTheListenerOnce() {
		expectKind(db.transactional(dsl -> one().contextWrite(RoutingContext.forTenant(MARIA)))
				.contextWrite(RoutingContext.forTenant(PG)), DataError.Kind.ROUTING_CONFLICT);

		assertThat(reported()).containsExactly(DataError.Kind.ROUTING_CONFLICT);
	}
}
