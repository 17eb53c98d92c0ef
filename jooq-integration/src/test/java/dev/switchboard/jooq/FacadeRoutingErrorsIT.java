package dev.switchboard.jooq;

import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.RoutingListener;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.jooq.SQLDialect;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing failures of the {@link TenantDatabase} facade, on the real topology: each reaches the
 * routing factory's listener (so {@code switchboard.routing.errors} counts it) and arrives as an
 * error signal, never as an exception thrown while the pipeline is assembled, like those of plain
 * R2DBC over the routing factory: a bad tenant id and a malformed causal token included.
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

	@Test
	void anInvalidTenantIdArrivesAsAnErrorSignalThroughTheFacadeAndIsReported() {
		// Assembling the pipeline must not throw: the id is checked when it subscribes.
		Function<Context, Context> invalid = RoutingContext.forTenant("not a tenant!");

		StepVerifier.create(one().contextWrite(invalid))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID);
					assertThat(e.getMessage()).contains("'not a tenant!'");
				}))
				.verify();
		assertThat(reported()).containsExactly(DataError.Kind.INVALID_TENANT_ID);
	}

	@Test
	void plainR2dbcOverTheRoutingFactoryGetsTheInvalidTenantIdAsAnErrorSignal() {
		Mono<Connection> connection = Mono.from(routing.create()).contextWrite(RoutingContext.forTenant(""));

		StepVerifier.create(connection)
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID))
				.verify();
		assertThat(reported()).containsExactly(DataError.Kind.INVALID_TENANT_ID);
	}

	@Test
	void oneOnErrorResumeHandlesInvalidAndUnknownTenantsAlike() {
		Function<String, Mono<String>> lookUp = tenant -> one().next().map(value -> "found")
				.onErrorResume(DataError.class, error -> Mono.just(error.kind().name()))
				.contextWrite(RoutingContext.forTenant(tenant));
		Function<String, Mono<String>> connect = tenant -> Mono.from(routing.create())
				.flatMap(c -> Mono.from(c.close()).thenReturn("found"))
				.onErrorResume(DataError.class, error -> Mono.just(error.kind().name()))
				.contextWrite(RoutingContext.forTenant(tenant));

		StepVerifier.create(Flux.concat(lookUp.apply(PG), lookUp.apply("hooli"), lookUp.apply("no/such tenant"),
						connect.apply(MARIA), connect.apply("hooli"), connect.apply("no/such tenant")))
				.expectNext("found", "UNKNOWN_TENANT", "INVALID_TENANT_ID", "found", "UNKNOWN_TENANT", "INVALID_TENANT_ID")
				.verifyComplete();
	}

	@Test
	void aMalformedCausalTokenArrivesAsAnErrorSignalThroughTheFacadeAndPlainR2dbc() {
		Function<Context, Context> malformed = RoutingContext.forTenant(PG, "pg-main@not-a-position");

		expectKind(one().contextWrite(malformed), DataError.Kind.INVALID_CAUSAL_TOKEN);
		expectKind(Flux.from(routing.create()).contextWrite(malformed), DataError.Kind.INVALID_CAUSAL_TOKEN);
		assertThat(reported()).containsExactly(DataError.Kind.INVALID_CAUSAL_TOKEN, DataError.Kind.INVALID_CAUSAL_TOKEN);
	}

	@Test
	void aWellFormedCausalTokenIsImportedAndTheQueryRuns() {
		StepVerifier.create(one().then(RoutingContext.current())
						.contextWrite(RoutingContext.forTenant(MARIA, "maria-main@0-1-1")))
				.assertNext(routing -> assertThat(routing.causalToken()).hasToString("maria-main@0-1-1"))
				.verifyComplete();
		assertThat(reported()).isEmpty();
	}
}
