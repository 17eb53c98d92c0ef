package dev.switchboard.jooq;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.Record1;
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
 * Routed transactions on the real topology: one primary connection from begin to commit,
 * savepoints for nesting, conflicts rolled back, the pin tripped by a commit, no leaked connection.
 */
@ExtendWith(DevDatabases.class)
class RoutedTransactionsIT {

	static final int TRANSACTIONS = 2_000;

	static JooqTopology setup;

	static TenantDatabase db;

	@BeforeAll
	static void setUp(Topology topology) {
		setup = new JooqTopology(topology);
		db = setup.dsl.database();
	}

	@AfterAll
	static void tearDown() {
		setup.close();
	}

	static String tenant(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? JooqTopology.PG : JooqTopology.MARIA;
	}

	static Mono<Integer> insert(org.jooq.DSLContext dsl, String id, String tenant) {
		return Mono.from(dsl.insertInto(NOTES, ID, TENANT, BODY).values(id, tenant, "tx"));
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void everyStatementOfATransactionRunsOnOnePrimaryConnectionAndSeesItsOwnWrites(Topology.Kind kind) {
		String id = "own-" + UUID.randomUUID();
		String whoAmI = kind == Topology.Kind.POSTGRESQL
				? "concat(inet_server_port(), '/', pg_backend_pid())"
				: "concat(@@port, '/', connection_id())";

		List<String> seen = db.transactional(dsl -> insert(dsl, id, tenant(kind))
						.thenMany(db.read(read -> read.select(DSL.field(whoAmI, String.class))
								.union(read.select(DSL.field(whoAmI, String.class))))
								.map(Record1::value1))
						.concatWith(db.query(read -> read.select(BODY).from(NOTES).where(ID.eq(id))).map(r -> "row:" + r.value1())))
				.collectList()
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.block();

		assertThat(seen).hasSize(2);
		assertThat(seen.get(0)).startsWith(setup.topology.engine(kind).primary().port() + "/");
		assertThat(seen.get(1)).isEqualTo("row:tx");
		assertThat(setup.onPrimary(setup.topology.engine(kind), id)).isTrue();
		setup.awaitNoneAcquired();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void innerRollbackKeepsTheOutersWork(Topology.Kind kind) {
		String outer = "outer-" + UUID.randomUUID();
		String inner = "inner-" + UUID.randomUUID();

		db.transactional(dsl -> insert(dsl, outer, tenant(kind))
						.then(db.transactional(nested -> insert(nested, inner, tenant(kind))
										.then(Mono.error(new IllegalStateException("inner fails"))))
								.onErrorResume(IllegalStateException.class, ex -> Mono.empty())
								.then()))
				.contextWrite(RoutingContext.forTenant(tenant(kind)))
				.blockLast();

		assertThat(setup.onPrimary(setup.topology.engine(kind), outer)).isTrue();
		assertThat(setup.onPrimary(setup.topology.engine(kind), inner)).isFalse();
		setup.awaitNoneAcquired();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void outerRollbackDiscardsBoth(Topology.Kind kind) {
		String outer = "outer-" + UUID.randomUUID();
		String inner = "inner-" + UUID.randomUUID();

		StepVerifier.create(db.transactional(dsl -> insert(dsl, outer, tenant(kind))
						.then(db.transactional(nested -> insert(nested, inner, tenant(kind))).then())
						.then(Mono.error(new IllegalStateException("outer fails"))))
						.contextWrite(RoutingContext.forTenant(tenant(kind))))
				.expectErrorMessage("outer fails")
				.verify();

		assertThat(setup.onPrimary(setup.topology.engine(kind), outer)).isFalse();
		assertThat(setup.onPrimary(setup.topology.engine(kind), inner)).isFalse();
		setup.awaitNoneAcquired();
	}

	@Test
	void switchingTenantInsideATransactionIsARoutingConflictAndNothingIsCommitted() {
		String mine = "mine-" + UUID.randomUUID();
		String theirs = "theirs-" + UUID.randomUUID();
		NoteRepository notes = new NoteRepository(db);

		StepVerifier.create(db.transactional(dsl -> insert(dsl, mine, JooqTopology.PG)
						.then(notes.add(theirs, JooqTopology.MARIA, "cross").contextWrite(RoutingContext.forTenant(JooqTopology.MARIA))))
						.contextWrite(RoutingContext.forTenant(JooqTopology.PG)))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT);
					assertThat(e.getMessage()).contains("'globex'", "'acme'");
				}))
				.verify();

		assertThat(setup.onPrimary(setup.topology.postgres(), mine)).isFalse();
		assertThat(setup.onPrimary(setup.topology.mariadb(), theirs)).isFalse();
		setup.awaitNoneAcquired();
	}

	@Test
	void aRefusedCallForAnotherTenantLeavesTheTransactionOnlyToRollBackEvenIfTheWorkSwallowsIt() {
		String mine = "mine-" + UUID.randomUUID();
		String theirs = "theirs-" + UUID.randomUUID();
		NoteRepository notes = new NoteRepository(db);

		StepVerifier.create(db.transactional(dsl -> insert(dsl, mine, JooqTopology.PG)
						.then(notes.add(theirs, JooqTopology.MARIA, "cross").contextWrite(RoutingContext.forTenant(JooqTopology.MARIA))
								.onErrorResume(DataError.class, swallowed -> Mono.empty())))
						.contextWrite(RoutingContext.forTenant(JooqTopology.PG)))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify();

		assertThat(setup.onPrimary(setup.topology.postgres(), mine)).as("the transaction's own write").isFalse();
		assertThat(setup.onPrimary(setup.topology.mariadb(), theirs)).isFalse();
		setup.awaitNoneAcquired();
	}

	@Test
	void plainJooqCodeOnAnotherTenantInsideATransactionIsARoutingConflictToo() {
		String mine = "mine-" + UUID.randomUUID();
		org.jooq.DSLContext mariaDsl = setup.dsl.dsl(setup.maria, dev.switchboard.api.AccessIntent.WRITE);

		StepVerifier.create(db.transactional(dsl -> insert(dsl, mine, JooqTopology.PG)
						.then(insert(mariaDsl, "x-" + mine, JooqTopology.MARIA).contextWrite(RoutingContext.forTenant(JooqTopology.MARIA))))
						.contextWrite(RoutingContext.forTenant(JooqTopology.PG)))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify();

		assertThat(setup.onPrimary(setup.topology.postgres(), mine)).isFalse();
		assertThat(setup.onPrimary(setup.topology.mariadb(), "x-" + mine)).isFalse();
	}

	@Test
	void plainJooqCodeRefusedForAnotherTenantLeavesTheTransactionOnlyToRollBackEvenIfTheWorkSwallowsIt() {
		// The same rule as the facade's own calls, and as Spring's transactions: the refusal is
		// seen by routing, not by the facade, and still marks the transaction.
		String mine = "mine-" + UUID.randomUUID();
		org.jooq.DSLContext mariaDsl = setup.dsl.dsl(setup.maria, dev.switchboard.api.AccessIntent.WRITE);

		StepVerifier.create(db.transactional(dsl -> insert(dsl, mine, JooqTopology.PG)
						.then(insert(mariaDsl, "x-" + mine, JooqTopology.MARIA).contextWrite(RoutingContext.forTenant(JooqTopology.MARIA))
								.onErrorResume(swallowed -> Mono.empty())))
						.contextWrite(RoutingContext.forTenant(JooqTopology.PG)))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify();

		assertThat(setup.onPrimary(setup.topology.postgres(), mine)).as("the transaction's own write").isFalse();
		assertThat(setup.onPrimary(setup.topology.mariadb(), "x-" + mine)).isFalse();
		setup.awaitNoneAcquired();
	}

	@Test
	void cancellingATransactionRollsItBackAndReturnsTheConnection() {
		String id = "cancel-" + UUID.randomUUID();

		db.transactional(dsl -> insert(dsl, id, JooqTopology.PG).thenMany(Flux.never()))
				.contextWrite(RoutingContext.forTenant(JooqTopology.PG))
				.take(Duration.ofMillis(300))
				.blockLast();

		dev.switchboard.r2dbc.test.Await.until(Duration.ofSeconds(5), () -> setup.acquired() == 0);
		assertThat(setup.onPrimary(setup.topology.postgres(), id)).isFalse();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void readAfterACommitInTheSameRequestSeesTheWriteDespiteTheLaggingReplica(Topology.Kind kind) {
		String tenant = kind == Topology.Kind.POSTGRESQL ? JooqTopology.PG_LAGGING : JooqTopology.MARIA_LAGGING;
		NoteRepository notes = new NoteRepository(db);
		int stale = 0;
		int controlMisses = 0;
		for (int i = 0; i < 20; i++) {
			String id = "raw-" + UUID.randomUUID();
			String body = db.transactional(dsl -> insert(dsl, id, tenant))
					.then(notes.body(id))
					.contextWrite(RoutingContext.forTenant(tenant))
					.block();
			if (!"tx".equals(body)) {
				stale++;
			}
			// The control: another request, with its own pin, reads the lagging replica.
			String id2 = "raw-" + UUID.randomUUID();
			notes.add(id2, tenant, "plain").contextWrite(RoutingContext.forTenant(tenant)).block();
			if (notes.body(id2).contextWrite(RoutingContext.forTenant(tenant)).block() == null) {
				controlMisses++;
			}
		}
		assertThat(stale).isZero();
		assertThat(controlMisses).isEqualTo(20);
	}

	@Test
	void concurrentTransactionsCommitExactlyTheOnesThatSucceeded() {
		String run = "bulk-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		String[] tenants = { JooqTopology.PG, JooqTopology.MARIA, JooqTopology.PG_LAGGING, JooqTopology.MARIA_LAGGING };
		Set<String> committed = ConcurrentHashMap.newKeySet();
		Set<String> failed = ConcurrentHashMap.newKeySet();

		Flux.range(0, TRANSACTIONS)
				.flatMap(i -> {
					ThreadLocalRandom random = ThreadLocalRandom.current();
					String tenant = tenants[random.nextInt(tenants.length)];
					String id = run + i;
					boolean fail = random.nextInt(3) == 0;
					return db.transactional(dsl -> insert(dsl, id, tenant)
									.then(insert(dsl, id + "-b", tenant))
									.flatMap(n -> fail ? Mono.error(new IllegalStateException("fails inside")) : Mono.just(n)))
							.contextWrite(RoutingContext.forTenant(tenant))
							.doOnComplete(() -> committed.add(id))
							.onErrorResume(IllegalStateException.class, ex -> {
								failed.add(id);
								return Mono.empty();
							});
				}, 48)
				.blockLast(Duration.ofMinutes(3));

		Set<String> found = new java.util.HashSet<>();
		for (Topology.Engine engine : List.of(setup.topology.postgres(), setup.topology.mariadb())) {
			String placeholder = engine.kind().placeholder();
			Sql.query(JooqTopology.primary(engine), "SELECT id FROM notes WHERE id LIKE " + placeholder, run + "%")
					.forEach(row -> found.add((String) row.get("id")));
		}
		Set<String> expected = new java.util.HashSet<>();
		committed.forEach(id -> {
			expected.add(id);
			expected.add(id + "-b");
		});
		System.out.printf("transactions: %d run, %d committed, %d failed inside, %d rows found, %d connections acquired%n",
				TRANSACTIONS, committed.size(), failed.size(), found.size(), setup.acquired());
		assertThat(committed.size() + failed.size()).isEqualTo(TRANSACTIONS);
		assertThat(failed).isNotEmpty();
		assertThat(found).isEqualTo(expected);
		setup.awaitNoneAcquired();
	}

	@Test
	void jooqsOwnTransactionPublisherRunsOnThePrimaryOnOneConnection() {
		RoutedDsl postgresOnly = RoutedJooqIT.postgresOnly(setup);
		String id = "jooq-tx-" + UUID.randomUUID();

		List<String> sessions = Flux.from(postgresOnly.dsl().transactionPublisher(trx -> insert(trx.dsl(), id, JooqTopology.PG)
						.thenMany(Flux.from(trx.dsl().select(DSL.field("inet_server_port() || '/' || pg_backend_pid()", String.class)))
								.concatWith(Flux.from(trx.dsl().select(DSL.field("inet_server_port() || '/' || pg_backend_pid()", String.class)))))
						.map(Record1::value1)))
				.collectList()
				// Even a pipeline declared read-only cannot send a transaction to a replica.
				.contextWrite(RoutingContext.intent(dev.switchboard.api.AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant(JooqTopology.PG))
				.block();

		assertThat(sessions).hasSize(2).allMatch(s -> s.startsWith(setup.topology.postgres().primary().port() + "/"));
		assertThat(sessions.get(0)).isEqualTo(sessions.get(1));
		assertThat(setup.onPrimary(setup.topology.postgres(), id)).isTrue();
	}
}
