package dev.switchboard.jooq;

import java.util.List;
import java.util.UUID;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static dev.switchboard.jooq.NoteRepository.BODY;
import static dev.switchboard.jooq.NoteRepository.ID;
import static dev.switchboard.jooq.NoteRepository.NOTES;
import static dev.switchboard.jooq.NoteRepository.TENANT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * jOOQ through routing on the real topology: the tenant set by {@code contextWrite} reaches
 * {@code RoutingConnectionFactory.create()} for every kind of statement, and one repository runs
 * unchanged for a PostgreSQL tenant and a MariaDB tenant.
 */
@ExtendWith(DevDatabases.class)
class RoutedJooqIT {

	static JooqTopology setup;

	@BeforeAll
	static void setUp(Topology topology) {
		setup = new JooqTopology(topology);
		// The locking selects below need a row to lock on the primary, so that they answer which server ran them.
		for (Topology.Engine engine : new Topology.Engine[] { topology.postgres(), topology.mariadb() }) {
			String placeholders = engine.kind() == Topology.Kind.POSTGRESQL ? "($1, $2, $3) ON CONFLICT DO NOTHING" : "(?, ?, ?)";
			String insert = engine.kind() == Topology.Kind.POSTGRESQL ? "INSERT INTO " : "INSERT IGNORE INTO ";
			dev.switchboard.r2dbc.test.Sql.execute(JooqTopology.primary(engine),
					insert + JooqTopology.TABLE + " (id, tenant, body) VALUES " + placeholders, "seed", "seed", "seed");
		}
	}

	@AfterAll
	static void tearDown() {
		setup.close();
	}

	static String tenant(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? JooqTopology.PG : JooqTopology.MARIA;
	}

	static Topology.Engine other(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? setup.topology.mariadb() : setup.topology.postgres();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void oneRepositoryRunsUnchangedForEveryEngineAndEachRowLandsOnlyOnItsTenantsServer(Topology.Kind kind) {
		NoteRepository notes = new NoteRepository(setup.dsl.database());
		String tenant = tenant(kind);
		String id = "repo-" + UUID.randomUUID();

		Mono<String> request = notes.add(id, tenant, "hello")
				.then(notes.rename(id, "hello again"))
				.then(notes.body(id));

		assertThat(request.contextWrite(RoutingContext.forTenant(tenant)).block()).isEqualTo("hello again");
		assertThat(setup.onPrimary(setup.topology.engine(kind), id)).isTrue();
		assertThat(setup.onPrimary(other(kind), id)).isFalse();

		assertThat(notes.remove(id).contextWrite(RoutingContext.forTenant(tenant)).block()).isEqualTo(1);
		assertThat(setup.onPrimary(setup.topology.engine(kind), id)).isFalse();
		setup.awaitNoneAcquired();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void theTenantReachesTheRoutingForEveryKindOfStatement(Topology.Kind kind) {
		DSLContext dsl = setup.dsl.dsl(setup.routing.registry().obtainDataSource(
				dev.switchboard.api.TenantId.of(tenant(kind))), AccessIntent.WRITE);
		String tenant = tenant(kind);
		String prefix = "ctx-" + UUID.randomUUID() + "-";

		Mono<Void> statements = Mono.from(dsl.insertInto(NOTES, ID, TENANT, BODY).values(prefix + 1, tenant, "insert"))
				.then(Mono.from(dsl.update(NOTES).set(BODY, "update").where(ID.eq(prefix + 1))))
				.thenMany(Flux.from(dsl.batch(
						dsl.insertInto(NOTES, ID, TENANT, BODY).values(prefix + 2, tenant, "batch"),
						dsl.insertInto(NOTES, ID, TENANT, BODY).values(prefix + 3, tenant, "batch"))))
				.thenMany(Flux.from(dsl.transactionPublisher(trx -> trx.dsl()
						.insertInto(NOTES, ID, TENANT, BODY).values(prefix + 4, tenant, "transaction"))))
				.then(Mono.from(dsl.deleteFrom(NOTES).where(ID.eq(prefix + 3))))
				.then();
		Flux<String> select = Flux.from(dsl.select(BODY).from(NOTES).where(ID.startsWith(prefix)).orderBy(ID))
				.map(Record1::value1);

		List<String> bodies = statements.thenMany(select).collectList()
				.contextWrite(RoutingContext.forTenant(tenant))
				.block();

		assertThat(bodies).containsExactly("update", "batch", "transaction");
		assertThat(setup.onPrimary(other(kind), prefix + 1)).isFalse();
		setup.awaitNoneAcquired();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void withoutContextEveryStatementFailsClassifiedAndRunsNothing(Topology.Kind kind) {
		DSLContext dsl = setup.dsl.dsl(setup.routing.registry().obtainDataSource(
				dev.switchboard.api.TenantId.of(tenant(kind))), AccessIntent.WRITE);
		String id = "none-" + UUID.randomUUID();

		StepVerifier.create(Mono.from(dsl.insertInto(NOTES, ID, TENANT, BODY).values(id, "nobody", "x")))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class,
						e -> assertThat(e.kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT)))
				.verify();
		StepVerifier.create(setup.dsl.database().query(d -> d.selectFrom(NOTES)))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT))
				.verify();
		assertThat(setup.onPrimary(setup.topology.engine(kind), id)).isFalse();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aPlainSelectIsServedByAReplicaAndALockingSelectByThePrimary(Topology.Kind kind) {
		TenantDatabase db = setup.dsl.database();
		String portQuery = kind == Topology.Kind.POSTGRESQL ? "inet_server_port()" : "@@port";

		Integer plain = db.query(dsl -> dsl.select(DSL.field(portQuery, Integer.class)))
				.next().map(Record1::value1)
				.contextWrite(RoutingContext.forTenant(tenant(kind))).block();
		Integer locking = db.query(dsl -> dsl.select(DSL.field(portQuery, Integer.class)).from(NOTES).limit(1).forUpdate())
				.next().map(Record1::value1)
				.contextWrite(RoutingContext.forTenant(tenant(kind))).block();
		Integer plainSql = db.query(dsl -> dsl.resultQuery("SELECT " + portQuery).coerce(DSL.field("p", Integer.class)))
				.next().map(Record1::value1)
				.contextWrite(RoutingContext.forTenant(tenant(kind))).block();

		Topology.Engine engine = setup.topology.engine(kind);
		assertThat(plain).isEqualTo(engine.replica().port());
		assertThat(plainSql).as("plain SQL is a write unless declared").isEqualTo(engine.primary().port());
		assertThat(locking).as("locking select").isEqualTo(engine.primary().port());
		assertThat(IntentInference.locks("select id from notes for share")).isTrue();
		assertThat(IntentInference.locks("select id from notes FOR NO KEY UPDATE skip locked")).isTrue();
		assertThat(IntentInference.locks("select \"for_update\" from notes")).isFalse();
		assertThat(IntentInference.locks("select id\nfrom notes\nfor update")).as("formatted SQL").isTrue();
	}

	@Test
	void thePlainRoutedDslContextRefusesMixedDialects() {
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> setup.dsl.dsl())
				.isInstanceOf(IllegalStateException.class)
				.hasMessageContaining("use RoutedDsl.database()");
	}

	static RoutedDsl postgresOnly(JooqTopology topology) {
		return RoutedDsl.builder(new dev.switchboard.r2dbc.RoutingConnectionFactory(
				dev.switchboard.r2dbc.TenantRegistry.builder().dataSource(topology.pg).tenant(JooqTopology.PG, "pg-main").build()))
				.build();
	}

	static Integer port(org.jooq.ResultQuery<Record1<Integer>> query, java.util.function.Function<reactor.util.context.Context, reactor.util.context.Context> declared) {
		return Mono.from(query).map(Record1::value1).contextWrite(declared)
				.contextWrite(RoutingContext.forTenant(JooqTopology.PG)).block();
	}

	@Test
	void thePlainRoutedDslContextRoutesEachQueryByItsIntent() {
		DSLContext dsl = postgresOnly(setup).dsl();
		int primary = setup.topology.postgres().primary().port();
		int replica = setup.topology.postgres().replica().port();
		java.util.function.Function<reactor.util.context.Context, reactor.util.context.Context> none = c -> c;

		assertThat(dsl.dialect()).isEqualTo(SQLDialect.POSTGRES);
		assertThat(port(dsl.select(DSL.field("inet_server_port()", Integer.class)), none)).as("select").isEqualTo(replica);
		assertThat(port(dsl.select(DSL.field("inet_server_port()", Integer.class)).from(NOTES).limit(1).forUpdate(), none))
				.as("select for update").isEqualTo(primary);
		assertThat(port(dsl.resultQuery("SELECT inet_server_port()").coerce(DSL.field("p", Integer.class)), none))
				.as("plain SQL").isEqualTo(primary);
		assertThat(port(dsl.resultQuery("SELECT inet_server_port()").coerce(DSL.field("p", Integer.class)),
				RoutingContext.intent(AccessIntent.READ))).as("plain SQL declared a read").isEqualTo(replica);
		assertThat(port(dsl.select(DSL.field("inet_server_port()", Integer.class)), RoutingContext.intent(AccessIntent.WRITE)))
				.as("select declared a write").isEqualTo(primary);
		setup.awaitNoneAcquired();
	}

	@Test
	void thePlainRoutedDslContextPinsReadsAfterAWrite() {
		DSLContext dsl = postgresOnly(setup).dsl();
		String id = "plain-" + UUID.randomUUID();

		Integer port = Mono.from(dsl.insertInto(NOTES, ID, TENANT, BODY).values(id, JooqTopology.PG, "pinned"))
				.then(Mono.from(dsl.select(DSL.field("inet_server_port()", Integer.class)).where(DSL.exists(
						dsl.selectOne().from(NOTES).where(ID.eq(id))))).map(Record1::value1))
				.contextWrite(RoutingContext.forTenant(JooqTopology.PG))
				.block();

		assertThat(port).isEqualTo(setup.topology.postgres().primary().port());
		setup.awaitNoneAcquired();
	}

	@Test
	void cancellingQueriesAtRandomPointsLeavesNoConnectionAcquired() {
		DSLContext plain = postgresOnly(setup).dsl();
		TenantDatabase db = setup.dsl.database();
		// A jOOQ query object is not thread-safe: each subscription builds its own, as application code does.
		java.util.function.Function<DSLContext, org.jooq.ResultQuery<Record1<Integer>>> rows = dsl -> dsl
				.select(DSL.field("g", Integer.class)).from(DSL.table("generate_series(1, 500) AS t(g)"));

		Flux.range(0, 4_000)
				.flatMap(i -> (switch (i % 3) {
					// Cancelled after rows flowed, through the plain context.
					case 0 -> Flux.from(rows.apply(plain)).take(1).then();
					// Cancelled at any moment, also before jOOQ took its connection, through the facade.
					case 1 -> db.query(rows).then().timeout(java.time.Duration.ofNanos(
							java.util.concurrent.ThreadLocalRandom.current().nextLong(2_000_000)))
							.onErrorResume(java.util.concurrent.TimeoutException.class, ex -> Mono.empty());
					default -> db.query(rows).take(1).then();
				}).contextWrite(RoutingContext.forTenant(JooqTopology.PG)), 16)
				.blockLast(java.time.Duration.ofMinutes(2));

		setup.awaitNoneAcquired();
	}
}
