package dev.switchboard.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.RandomCut;
import dev.switchboard.r2dbc.test.Topology;
import dev.switchboard.r2dbc.test.TransactionAudit;
import io.r2dbc.spi.Connection;
import org.assertj.core.api.SoftAssertions;
import org.jooq.DSLContext;
import org.junit.jupiter.api.Test;
import org.springframework.aop.framework.ProxyFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.transaction.TransactionManager;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionInterceptor;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * All or nothing for Spring's own transactions over the starter (DESIGN.md, Transactions; issues
 * 13 and 14), on one engine per subclass: {@code TransactionalOperator} and {@code @Transactional}
 * around two {@code DatabaseClient} inserts, and around two inserts of the starter's jOOQ
 * {@code DSLContext}, cut off at random; a {@code DatabaseClient} statement for another tenant
 * inside a transaction; a transaction under a declared READ intent, and a read-only one. Every
 * outcome is counted outside the framework (unpooled administrator connections, the server's
 * views, the pooled connections borrowed from r2dbc-pool).
 *
 * <p>Tenant {@value #ALPHA} has the database {@value #DATABASE_A}, tenant {@value #BETA} the
 * database {@value #DATABASE_B}, both on the engine's primary with its no-delay replica. A fresh
 * application per test, so that connections one test leaks do not fail the next.
 */
@DirtiesContext(classMode = DirtiesContext.ClassMode.AFTER_EACH_TEST_METHOD)
abstract class SpringAllOrNothing {

	static final int TRANSACTIONS = Integer.getInteger("spring.torn.transactions", 1_000);

	static final int CONCURRENCY = 16;

	static final int POOL_SIZE = 8;

	static final String DATABASE_A = "sb_spring_tx";

	static final String DATABASE_B = "sb_spring_tx_b";

	static final String ALPHA = "alpha";

	static final String BETA = "beta";

	static final String TABLE = SpringAllOrNothingApp.TABLE;

	static final Topology topology = DevDatabases.topology();

	@Autowired
	DatabaseClient client;

	@Autowired
	TransactionalOperator operator;

	@Autowired
	SpringAllOrNothingApp.TransactionalInserts service;

	@Autowired
	DSLContext dsl;

	@Autowired
	DataSourceRegistry registry;

	@Autowired
	RoutingConnectionFactory routing;

	@Autowired
	TenantDatabase tenantDatabase;

	abstract Topology.Kind kind();

	Topology.Engine engine() {
		return topology.engine(kind());
	}

	/** The properties of one engine's application; also creates the two databases and their tables. */
	static void properties(DynamicPropertyRegistry properties, Topology.Kind kind) {
		Topology.Engine engine = topology.engine(kind);
		for (String database : new String[] { DATABASE_A, DATABASE_B }) {
			TransactionAudit.createTransactionTable(engine, database, TABLE);
		}
		for (String[] dataSource : new String[][] { { "tx-a", DATABASE_A }, { "tx-b", DATABASE_B } }) {
			String prefix = "switchboard.datasources." + dataSource[0];
			properties.add(prefix + ".primary", () -> engine.url(engine.primary(), dataSource[1]));
			properties.add(prefix + ".replicas[0]", () -> engine.url(engine.replica(), dataSource[1]));
			properties.add(prefix + ".pool.max-size", () -> POOL_SIZE);
			if (kind == Topology.Kind.MARIADB) {
				properties.add(prefix + ".dialect", () -> "MARIADB");
			}
		}
		properties.add("switchboard.tenants." + ALPHA + ".datasource", () -> "tx-a");
		properties.add("switchboard.tenants." + BETA + ".datasource", () -> "tx-b");
	}

	@Test
	void transactionalOperatorWithTwoDatabaseClientInsertsCancelledAtRandomCommitsAllOrNothing() {
		runAndAudit("TransactionalOperator + DatabaseClient", id -> this.operator.transactional(
				SpringAllOrNothingApp.insert(this.client, id, 1).then(SpringAllOrNothingApp.insert(this.client, id, 2))));
	}

	@Test
	void transactionalServiceMethodWithTwoDatabaseClientInsertsCancelledAtRandomCommitsAllOrNothing() {
		runAndAudit("@Transactional + DatabaseClient", this.service::twoInserts);
	}

	@Test
	void transactionalOperatorWithTwoJooqInsertsCancelledAtRandomCommitsAllOrNothing() {
		runAndAudit("TransactionalOperator + jOOQ DSLContext", id -> this.operator.transactional(
				SpringAllOrNothingApp.insert(this.dsl, id, 1).then(SpringAllOrNothingApp.insert(this.dsl, id, 2))));
	}

	@Test
	void aDatabaseClientStatementForAnotherTenantInsideASpringTransactionIsARoutingConflictAndNothingIsCommitted() {
		String id = "conflict-" + UUID.randomUUID();
		Mono<Long> work = SpringAllOrNothingApp.insert(this.client, id, 1)
				.then(SpringAllOrNothingApp.insert(this.client, id, 2).contextWrite(RoutingContext.forTenant(BETA)));

		Throwable failure = this.operator.transactional(work)
				.contextWrite(RoutingContext.forTenant(ALPHA))
				.then(Mono.<Throwable>empty())
				.onErrorResume(Mono::just)
				.block(Duration.ofSeconds(30));

		int inA = rows(DATABASE_A, id);
		int inB = rows(DATABASE_B, id);
		System.out.printf("spring all-or-nothing %s cross-tenant DatabaseClient in a transaction: failure %s; rows"
				+ " committed in %s's database %d, in %s's %d%n", kind(), failure, ALPHA, inA, BETA, inB);
		SoftAssertions softly = new SoftAssertions();
		softly.assertThat(failure).as("the transaction's failure").isNotNull();
		DataError error = dataError(failure);
		softly.assertThat(error == null ? null : error.kind()).as("the kind of the DataError in the failure %s", failure)
				.isEqualTo(DataError.Kind.ROUTING_CONFLICT);
		softly.assertThat(inA).as("rows committed in %s's database", ALPHA).isZero();
		softly.assertThat(inB).as("rows committed in %s's database", BETA).isZero();
		softly.assertAll();
	}

	@Test
	void aTransactionalOperatorTransactionUnderADeclaredReadRunsOnThePrimary() {
		assertOnThePrimary("TransactionalOperator under READ",
				this.operator.transactional(SpringAllOrNothingApp.ServerRole.ask(this.client))
						.contextWrite(RoutingContext.intent(AccessIntent.READ)));
	}

	@Test
	void aTransactionalMethodUnderADeclaredReadRunsOnThePrimary() {
		assertOnThePrimary("@Transactional under READ",
				this.service.server().contextWrite(RoutingContext.intent(AccessIntent.READ)));
	}

	@Test
	void aReadOnlyTransactionalMethodRunsOnThePrimary() {
		assertOnThePrimary("@Transactional(readOnly = true)", this.service.serverReadOnly());
		assertOnThePrimary("@Transactional(readOnly = true) under READ",
				this.service.serverReadOnly().contextWrite(RoutingContext.intent(AccessIntent.READ)));
	}

	/**
	 * The work of a Spring transaction that goes on after the transaction ended (a cancel rolls it
	 * back while the chain subscribes its next step): every client the work may use, with the
	 * transaction's own Reactor Context, after a rollback ({@code TransactionalOperator}) and
	 * after a commit ({@code @Transactional}). Each statement must fail with the classified
	 * "transaction has ended" error, write nothing, and leave no connection acquired; before the
	 * fix each ran on a fresh connection in autocommit and committed its row.
	 */
	@Test
	void whatASpringTransactionsWorkSubmitsAfterItEndedFailsAndWritesNothing() {
		String id = "ended-" + UUID.randomUUID();
		ContextView rolledBack = this.operator.execute(status -> {
			status.setRollbackOnly();
			return SpringAllOrNothingApp.insert(this.dsl, id, 1).then(Mono.deferContextual(Mono::just));
		}).contextWrite(RoutingContext.forTenant(ALPHA)).single().block(Duration.ofSeconds(30));
		ContextView committed = this.service.contextOfATransaction()
				.contextWrite(RoutingContext.forTenant(ALPHA)).block(Duration.ofSeconds(30));
		DatabaseClient switchboardClient = SwitchboardDatabaseClient.create(this.routing);
		Map<String, Function<Integer, Mono<?>>> paths = new LinkedHashMap<>();
		paths.put("jOOQ DSLContext", n -> SpringAllOrNothingApp.insert(this.dsl, id, n));
		paths.put("TenantDatabase", n -> this.tenantDatabase.execute(dsl -> dsl.insertInto(SpringAllOrNothingApp.TORN,
				SpringAllOrNothingApp.TX, SpringAllOrNothingApp.N).values(id, n)));
		paths.put("DatabaseClient", n -> SpringAllOrNothingApp.insert(this.client, id, n));
		paths.put("SwitchboardDatabaseClient", n -> SpringAllOrNothingApp.insert(switchboardClient, id, n));
		paths.put("plain R2DBC", n -> Mono.usingWhen(this.routing.create(),
				connection -> Flux.from(connection.createStatement("INSERT INTO " + TABLE + " (tx, n) VALUES ('" + id
						+ "', " + n + ")").execute()).flatMap(result -> Mono.from(result.getRowsUpdated())).then(),
				Connection::close));
		SoftAssertions softly = new SoftAssertions();
		int n = 10;
		for (Map.Entry<String, ContextView> ended : Map.of("rolled back", rolledBack, "committed", committed).entrySet()) {
			for (Map.Entry<String, Function<Integer, Mono<?>>> path : paths.entrySet()) {
				Throwable failure = path.getValue().apply(n++).contextWrite(ended.getValue())
						.then(Mono.<Throwable>empty()).onErrorResume(Mono::just).block(Duration.ofSeconds(30));
				DataError error = dataError(failure);
				int acquired = settle();
				System.out.printf("spring all-or-nothing %s %s after the transaction %s: %s; %d connections acquired%n",
						kind(), path.getKey(), ended.getKey(), failure, acquired);
				softly.assertThat(error == null ? null : error.getMessage())
						.as("%s after the transaction %s: the failure %s", path.getKey(), ended.getKey(), failure)
						.contains("transaction has ended");
			}
		}
		int rows = rows(DATABASE_A, id);
		int acquired = settle();
		System.out.printf("spring all-or-nothing %s work after the end: %d rows committed, %d connections still acquired%n",
				kind(), rows, acquired);
		softly.assertThat(rows).as("rows committed by the work of ended transactions").isZero();
		softly.assertThat(acquired).as("connections still acquired").isZero();
		softly.assertAll();
	}

	/**
	 * A caller that cancels after the begin succeeded, where Spring's own operators lose the
	 * cancel: {@code getReactiveTransaction}'s {@code thenReturn} lets go of the begin's
	 * subscription when the begin completes, so a cancel arriving in the next instructions never
	 * reaches the begin, and the begun transaction is dropped without a rollback (seen about once
	 * in 20,000 random cuts). Here the begin is made deaf to cancels and the caller cancels the
	 * moment it completes, which places the cancel there every time: through
	 * {@code TransactionalOperator} and through a {@code @Transactional} method, each transaction
	 * must leave no connection acquired, no session idle in a transaction and no row. Before the
	 * fix each left its connection acquired and its session idle in a transaction.
	 */
	@Test
	void aCancelThatSpringLosesAfterTheBeginStillRollsBackAndReleasesTheConnection() {
		AtomicReference<Disposable> caller = new AtomicReference<>();
		AtomicReference<Runnable> cut = new AtomicReference<>();
		AtomicInteger arrived = new AtomicInteger();
		// The cut runs when both the begin has completed and the caller holds its Disposable, on the
		// thread that comes second (an event loop may not wait for the other).
		Runnable arrive = () -> {
			if (arrived.incrementAndGet() == 2) {
				cut.get().run();
			}
		};
		SwitchboardTransactionManager manager = new SwitchboardTransactionManager(this.routing,
				begin -> Mono.deferContextual(context -> {
					Sinks.Empty<Void> begun = Sinks.empty();
					begin.subscribe(null, begun::tryEmitError, () -> {
						cut.set(() -> {
							caller.get().dispose();
							begun.tryEmitEmpty();
						});
						arrive.run();
					}, Context.of(context));
					return begun.asMono();
				}));
		TransactionalOperator operator = TransactionalOperator.create(manager);
		ProxyFactory proxy = new ProxyFactory(new SpringAllOrNothingApp.TransactionalInserts(this.client));
		proxy.addAdvice(new TransactionInterceptor((TransactionManager) manager,
				new AnnotationTransactionAttributeSource()));
		SpringAllOrNothingApp.TransactionalInserts service = (SpringAllOrNothingApp.TransactionalInserts) proxy.getProxy();
		Map<String, Function<String, Mono<?>>> paths = new LinkedHashMap<>();
		paths.put("TransactionalOperator", id -> operator.transactional(SpringAllOrNothingApp.insert(this.client, id, 1)
				.then(SpringAllOrNothingApp.insert(this.client, id, 2))));
		paths.put("@Transactional", service::twoInserts);
		SoftAssertions softly = new SoftAssertions();
		for (Map.Entry<String, Function<String, Mono<?>>> path : paths.entrySet()) {
			String id = "lost-cancel-" + UUID.randomUUID();
			caller.set(null);
			arrived.set(0);
			caller.set(path.getValue().apply(id).contextWrite(RoutingContext.forTenant(ALPHA)).subscribe(null, failure -> {
			}));
			arrive.run();
			int acquired = settle();
			int idle = TransactionAudit.idleInTransaction(engine(), DATABASE_A, Duration.ofSeconds(2));
			int rows = rows(DATABASE_A, id);
			System.out.printf("spring all-or-nothing %s %s cancelled where Spring loses the cancel: %d connections"
					+ " acquired, %d sessions idle in a transaction, %d rows%n", kind(), path.getKey(), acquired, idle, rows);
			softly.assertThat(acquired).as("%s: connections still acquired", path.getKey()).isZero();
			softly.assertThat(idle).as("%s: sessions idle in a transaction", path.getKey()).isZero();
			softly.assertThat(rows).as("%s: rows committed", path.getKey()).isZero();
		}
		softly.assertAll();
	}

	void assertOnThePrimary(String label, Mono<SpringAllOrNothingApp.ServerRole> transaction) {
		Object answer = transaction.contextWrite(RoutingContext.forTenant(ALPHA))
				.cast(Object.class)
				.onErrorResume(failure -> Mono.just(failure))
				.block(Duration.ofSeconds(30));
		System.out.printf("spring all-or-nothing %s %s: %s (primary port %d)%n", kind(), label, answer,
				engine().primary().port());
		assertThat(answer).as(label).isEqualTo(new SpringAllOrNothingApp.ServerRole(engine().primary().port(), false));
	}

	void runAndAudit(String path, Function<String, Mono<?>> transaction) {
		String run = "s-" + UUID.randomUUID().toString().substring(0, 8) + "-";
		List<String> ids = new ArrayList<>();
		for (int i = 0; i < TRANSACTIONS; i++) {
			ids.add(run + i);
		}
		RandomCut cut = RandomCut.withNext();
		long started = System.nanoTime();
		boolean hung = false;
		try {
			Flux.fromIterable(ids)
					.flatMap(id -> cut.run(id, Flux.from(Mono.defer(() -> transaction.apply(id))))
							.contextWrite(RoutingContext.forTenant(ALPHA)), CONCURRENCY)
					.blockLast(Duration.ofSeconds(60));
		}
		catch (IllegalStateException timedOut) {
			hung = true;
		}
		int acquired = settle();

		Map<String, Integer> rows = TransactionAudit.rowsPerTransaction(engine(), DATABASE_A, TABLE, run);
		TransactionAudit.Tally tally = TransactionAudit.Tally.of(kind() + " " + path, ids, rows, cut.received());
		System.out.printf("spring all-or-nothing %s in %d ms%s; %s%n", tally,
				Duration.ofNanos(System.nanoTime() - started).toMillis(), hung ? " (HUNG: not finished after 60 s)" : "", cut);
		int idle = TransactionAudit.idleInTransaction(engine(), DATABASE_A, Duration.ofSeconds(2));
		ReplicatedDataSource alpha = dataSource("tx-a");
		// Only what the pool can still hand out: a connection left acquired is counted above.
		int dirty = TransactionAudit.pooledConnectionsInATransaction(alpha.pool(alpha.primary()), kind(),
				Math.max(0, POOL_SIZE - acquired));
		System.out.printf("spring all-or-nothing %s %s connections: %d still acquired, %d sessions idle in a transaction,"
				+ " %d of %d pooled connections handed out inside a transaction%n", kind(), path, acquired, idle, dirty,
				POOL_SIZE);
		SoftAssertions softly = new SoftAssertions();
		softly.assertThat(hung).as("%s run still unfinished after 60 s", path).isFalse();
		softly.assertThat(tally.torn()).as("%s transactions with one of their two rows committed", path).isZero();
		softly.assertThat(acquired).as("connections still acquired").isZero();
		softly.assertThat(idle).as("server sessions idle in a transaction").isZero();
		softly.assertThat(dirty).as("pooled connections handed to their next user inside a transaction").isZero();
		softly.assertAll();
	}

	ReplicatedDataSource dataSource(String name) {
		return (ReplicatedDataSource) this.registry.dataSources().stream()
				.filter(dataSource -> dataSource.name().equals(name)).findFirst().orElseThrow();
	}

	int settle() {
		ReplicatedDataSource alpha = dataSource("tx-a");
		try {
			Await.until(Duration.ofSeconds(5), () -> Fixtures.acquired(alpha) == 0);
		}
		catch (AssertionError stillAcquired) {
			// reported by the caller
		}
		return Fixtures.acquired(alpha);
	}

	int rows(String database, String id) {
		return TransactionAudit.rowsPerTransaction(engine(), database, TABLE, id).getOrDefault(id, 0);
	}

	static DataError dataError(Throwable failure) {
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof DataError error) {
				return error;
			}
		}
		return null;
	}
}
