package dev.switchboard.r2dbc;

import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import dev.switchboard.api.DataError;
import dev.switchboard.api.Engine;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A {@link TableTenantSource} over a catalog table on the real servers: rows written with plain
 * JDBC, outside Switchboard, become routable, are rejected alone, or offboard their tenant; on
 * PostgreSQL within a second by {@code NOTIFY} although the refresh interval is a minute; and the
 * catalog's primary killed (on the fault topology) takes no tenant away.
 */
@ExtendWith(DevDatabases.class)
class TableTenantSourceIT {

	/** Long enough that only NOTIFY can explain a change seen within a second. */
	static final Duration NOTIFY_INTERVAL = Duration.ofSeconds(60);

	static final Duration MARIADB_INTERVAL = Duration.ofSeconds(1);

	static Topology topology;

	final List<AutoCloseable> closing = new ArrayList<>();

	final List<Runnable> dropping = new ArrayList<>();

	@BeforeAll
	static void setUp(Topology main) {
		topology = main;
	}

	@AfterEach
	void tearDown() throws Exception {
		for (AutoCloseable closeable : this.closing.reversed()) {
			closeable.close();
		}
		this.dropping.forEach(Runnable::run);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aRowWrittenOutsideIsRoutableWithinTheIntervalOrASecondWithNotify(Topology.Kind kind) throws Exception {
		Topology.Engine engine = topology.engine(kind);
		String table = "tts_rows_" + engine.tag();
		createCatalog(engine, engine.primary(), table);
		boolean notify = kind == Topology.Kind.POSTGRESQL;
		Duration interval = notify ? NOTIFY_INTERVAL : MARIADB_INTERVAL;
		long bound = notify ? 1_000 : interval.toMillis() + 500;
		ReplicatedDataSource catalog = catalog("catalog-" + engine.tag(), engine, engine.replica());
		Directory directory = directory(engine, TableTenantSource.of(catalog, table), interval);
		directory.start();
		if (notify) {
			Await.until(Duration.ofSeconds(5), () -> listening(engine, table).size() == 1);
		}

		List<Long> onboarded = new ArrayList<>();
		for (int i = 0; i < 5; i++) {
			String tenant = "tts-" + engine.tag() + "-" + i;
			jdbc(engine, engine.primary(), "INSERT INTO " + table + " (tenant_id, datasource, state) VALUES (?, ?, 'active')",
					tenant, directory.dataSource());
			onboarded.add(directory.awaitOutcome(tenant, null, System.nanoTime(), Duration.ofSeconds(5)));
		}
		jdbc(engine, engine.primary(), "UPDATE " + table + " SET state = 'offboarded' WHERE tenant_id = ?",
				"tts-" + engine.tag() + "-0");
		long offboardedByState = directory.awaitOutcome("tts-" + engine.tag() + "-0", DataError.Kind.TENANT_OFFBOARDED,
				System.nanoTime(), Duration.ofSeconds(5));
		jdbc(engine, engine.primary(), "DELETE FROM " + table + " WHERE tenant_id = ?", "tts-" + engine.tag() + "-1");
		long offboardedByDelete = directory.awaitOutcome("tts-" + engine.tag() + "-1", DataError.Kind.TENANT_OFFBOARDED,
				System.nanoTime(), Duration.ofSeconds(5));
		System.out.printf("table source %s (refresh interval %s%s): routable %s ms after the insert's commit; "
				+ "offboarded %d ms after state='offboarded', %d ms after the delete%n", kind, interval,
				notify ? ", NOTIFY" : "", onboarded, offboardedByState, offboardedByDelete);

		assertThat(onboarded).as("each row routable within %d ms", bound).allSatisfy(ms -> assertThat(ms).isLessThan(bound));
		assertThat(offboardedByState).isLessThan(bound);
		assertThat(offboardedByDelete).isLessThan(bound);
		assertThat(directory.events.rejected).isEmpty();
		assertThat(directory.routable("tts-" + engine.tag() + "-4")).isNull();
		if (notify) {
			assertThat(listening(engine, table)).as("one LISTEN connection, kept open").hasSize(1);
			assertThat(Fixtures.acquired(catalog)).as("the LISTEN connection holds no slot of the catalog's pools")
					.isZero();
			directory.routing.dispose();
			Await.until(Duration.ofSeconds(5), () -> listening(engine, table).isEmpty());
		}
	}

	@Test
	void aListenConnectionThatBreaksIsOpenedAgain() throws Exception {
		Topology.Engine engine = topology.postgres();
		String table = "tts_relisten";
		createCatalog(engine, engine.primary(), table);
		ReplicatedDataSource catalog = catalog("catalog-relisten", engine);
		Directory directory = directory(engine, TableTenantSource.of(catalog, table), NOTIFY_INTERVAL);
		directory.start();
		Await.until(Duration.ofSeconds(5), () -> listening(engine, table).size() == 1);
		Object before = listening(engine, table).get(0);

		Sql.execute(engine.connectionFactory(engine.primary()), "SELECT pg_terminate_backend(" + before + ")");
		long terminated = System.nanoTime();
		Await.until(Duration.ofSeconds(10), () -> listening(engine, table).size() == 1
				&& !listening(engine, table).get(0).equals(before));
		long relistenMillis = (System.nanoTime() - terminated) / 1_000_000;
		jdbc(engine, engine.primary(), "INSERT INTO " + table + " (tenant_id, datasource) VALUES (?, ?)", "tts-relisten",
				directory.dataSource());
		long routable = directory.awaitOutcome("tts-relisten", null, System.nanoTime(), Duration.ofSeconds(5));
		System.out.printf("table source: LISTEN backend %s terminated, listening again after %d ms; a new row routable "
				+ "%d ms after its commit%n", before, relistenMillis, routable);
		assertThat(routable).isLessThan(1_000);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aMalformedRowIsRejectedAloneAndTheOthersApply(Topology.Kind kind) throws Exception {
		Topology.Engine engine = topology.engine(kind);
		// Not the DDL's table: a catalog without its constraints, such as a view, may hold anything.
		String table = "tts_malformed_" + engine.tag();
		jdbc(engine, engine.primary(), "DROP TABLE IF EXISTS " + table);
		jdbc(engine, engine.primary(), "CREATE TABLE " + table
				+ " (tenant_id VARCHAR(100), datasource VARCHAR(100), state VARCHAR(20))");
		dropOnTearDown(engine, table);
		ReplicatedDataSource catalog = catalog("catalog-malformed-" + engine.tag(), engine);
		Directory directory = directory(engine, TableTenantSource.of(catalog, table), NOTIFY_INTERVAL);
		String ds = directory.dataSource();
		String[][] rows = { { "good", ds, "active" }, { "Good-Too", ds, "ACTIVE" }, { "bad id!", ds, "active" },
				{ "nowhere", "no-such-datasource", "active" }, { "paused", ds, "paused" }, { "twice", ds, "active" },
				{ "twice", ds, "active" }, { null, ds, "active" }, { "stateless", ds, null } };
		for (String[] row : rows) {
			jdbc(engine, engine.primary(), "INSERT INTO " + table + " VALUES (?, ?, ?)", (Object[]) row);
		}

		directory.start();

		System.out.printf("table source %s: rejected %s%n", kind, directory.events.rejected);
		assertThat(directory.events.rejected).extracting(rejected -> rejected.get(0))
				.containsExactlyInAnyOrder("bad id!", "nowhere", "paused", "twice", null, "stateless");
		assertThat(directory.routable("good")).isNull();
		assertThat(directory.routable("Good-Too")).isNull();
		assertThat(directory.routable("twice")).as("the first of the two entries applies").isNull();
		assertThat(directory.routable("nowhere")).isEqualTo(DataError.Kind.UNKNOWN_TENANT);
		assertThat(directory.routable("paused")).isEqualTo(DataError.Kind.UNKNOWN_TENANT);
		assertThat(directory.events.refreshFailures.get()).isZero();

		jdbc(engine, engine.primary(), "UPDATE " + table + " SET state = 'active' WHERE tenant_id = 'paused'");
		directory.routing.directory().refresh().block(Duration.ofSeconds(10));
		assertThat(directory.routable("paused")).as("a row set right applies on the next refresh").isNull();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void theCatalogPrimaryKilledLeavesEveryTenantRoutable(Topology.Kind kind) throws Exception {
		FaultTopology fault = FaultTopology.find();
		this.dropping.add(fault::restore);
		Topology.Engine catalogEngine = fault.topology().engine(kind);
		Topology.Engine tenantEngine = topology.engine(kind);
		String table = "tts_fault_" + catalogEngine.tag();
		createCatalog(catalogEngine, catalogEngine.primary(), table);
		List<String> tenants = new ArrayList<>();
		Duration interval = Duration.ofMillis(300);
		// One catalog with its replicas, which keeps refreshing; one without, which keeps its last good state.
		ReplicatedDataSource replicated = catalog("fault-catalog-" + catalogEngine.tag(), catalogEngine,
				catalogEngine.replica(), catalogEngine.laggingReplica());
		ReplicatedDataSource alone = catalog("fault-catalog-alone-" + catalogEngine.tag(), catalogEngine);
		CountingSource fromReplicas = new CountingSource(TableTenantSource.of(replicated, table));
		CountingSource fromPrimary = new CountingSource(TableTenantSource.of(alone, table));
		Directory withReplicas = directory(tenantEngine, fromReplicas, interval);
		Directory withoutReplicas = directory(tenantEngine, fromPrimary, interval);
		for (int i = 0; i < 5; i++) {
			tenants.add("tts-fault-" + i);
			jdbc(catalogEngine, catalogEngine.primary(), "INSERT INTO " + table + " (tenant_id, datasource) VALUES (?, ?)",
					tenants.get(i), withReplicas.dataSource());
		}
		for (Topology.Server replica : List.of(catalogEngine.replica(), catalogEngine.laggingReplica())) {
			Await.until(Duration.ofSeconds(20), () -> Sql.query(catalogEngine.connectionFactory(replica),
					"SELECT tenant_id FROM " + table).size() == tenants.size());
		}
		withReplicas.start();
		withoutReplicas.start();
		for (String tenant : tenants) {
			assertThat(withReplicas.routable(tenant)).isNull();
			assertThat(withoutReplicas.routable(tenant)).isNull();
		}

		fault.kill(catalogEngine.primary());
		int loadsAtKill = fromReplicas.loads.get();
		int failedAtKill = withReplicas.events.refreshFailures.get();
		List<String> failures = new ArrayList<>();
		int queries = 0;
		long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
		while (System.nanoTime() < end) {
			for (String tenant : tenants) {
				for (Directory directory : List.of(withReplicas, withoutReplicas)) {
					DataError.Kind outcome = directory.routable(tenant);
					queries++;
					if (outcome != null) {
						failures.add(tenant + ": " + outcome);
					}
				}
			}
			Thread.sleep(50);
		}
		int loadsDuringOutage = fromReplicas.loads.get() - loadsAtKill;
		int failedWithReplicas = withReplicas.events.refreshFailures.get() - failedAtKill;
		int failedAlone = withoutReplicas.events.refreshFailures.get();
		fault.start(catalogEngine.primary());
		System.out.printf("table source %s, catalog primary killed for 4 s: %d routed queries, %d failed; with replicas "
				+ "%d refreshes succeeded, %d failed; primary alone %d refreshes failed (listener), last failure %s%n",
				kind, queries, failures.size(), loadsDuringOutage, failedWithReplicas, failedAlone,
				withoutReplicas.events.lastFailure);

		assertThat(failures).as("every tenant stays routable").isEmpty();
		assertThat(loadsDuringOutage).as("refreshes keep reading a replica").isGreaterThanOrEqualTo(5);
		assertThat(failedWithReplicas).isZero();
		assertThat(failedAlone).as("a refresh failure reaches the listener").isPositive();
		assertThat(withReplicas.routing.directory().entries()).hasSize(tenants.size());
		assertThat(withoutReplicas.routing.directory().entries()).hasSize(tenants.size());

		// Back to normal once the primary is back: a new row reaches both.
		jdbc(catalogEngine, catalogEngine.primary(), "INSERT INTO " + table + " (tenant_id, datasource) VALUES (?, ?)",
				"tts-fault-late", withReplicas.dataSource());
		long late = withoutReplicas.awaitOutcome("tts-fault-late", null, System.nanoTime(), Duration.ofSeconds(20));
		withReplicas.awaitOutcome("tts-fault-late", null, System.nanoTime(), Duration.ofSeconds(20));
		System.out.printf("table source %s: after the restart, a new row routable from the lone primary in %d ms%n",
				kind, late);
	}

	// ---- support

	/** A directory over one tenant datasource of the main topology, and a routing factory over it. */
	final class Directory {

		final RoutingConnectionFactory routing;

		final Events events = new Events();

		final String dataSource;

		Directory(Topology.Engine engine, TenantSource source, Duration interval, String dataSource) {
			this.dataSource = dataSource;
			TenantDirectory directory = TenantDirectory.builder()
					.dataSource(Fixtures.dataSource(this.dataSource, engine, 4))
					.listener(this.events)
					.source(source, interval)
					.build();
			this.routing = new RoutingConnectionFactory(directory);
			TableTenantSourceIT.this.closing.add(this.routing::close);
		}

		String dataSource() {
			return this.dataSource;
		}

		void start() {
			this.routing.directory().start().block(Duration.ofSeconds(30));
		}

		/** Run a real query for {@code tenant}: {@code null} if it succeeded, else the routing error's kind. */
		DataError.@Nullable Kind routable(String tenant) {
			try {
				Mono.usingWhen(this.routing.create(),
						connection -> Flux.from(connection.createStatement("SELECT 1").execute())
								.concatMap(result -> result.map(row -> 1)).then(),
						Connection::close)
					.contextWrite(RoutingContext.forTenant(tenant))
					.block(Duration.ofSeconds(10));
				return null;
			}
			catch (DataError error) {
				return error.kind();
			}
		}

		/** Poll until {@code tenant}'s query has {@code expected} as outcome; the milliseconds since {@code since}. */
		long awaitOutcome(String tenant, DataError.@Nullable Kind expected, long since, Duration timeout) {
			Await.until(timeout, () -> routable(tenant) == expected);
			return (System.nanoTime() - since) / 1_000_000;
		}
	}

	Directory directory(Topology.Engine engine, TenantSource source, Duration interval) {
		return new Directory(engine, source, interval, "ds-" + engine.tag());
	}

	static final class Events implements DirectoryListener {

		final List<List<String>> rejected = new CopyOnWriteArrayList<>();

		final AtomicInteger refreshFailures = new AtomicInteger();

		volatile @Nullable Throwable lastFailure;

		@Override
		public void entryRejected(@Nullable String tenant, String problem) {
			this.rejected.add(java.util.Arrays.asList(tenant, problem));
		}

		@Override
		public void refreshFailed(Throwable failure) {
			this.lastFailure = failure;
			this.refreshFailures.incrementAndGet();
		}
	}

	/** A source that counts the loads that succeeded. */
	record CountingSource(TenantSource delegate, AtomicInteger loads) implements TenantSource {

		CountingSource(TenantSource delegate) {
			this(delegate, new AtomicInteger());
		}

		@Override
		public Mono<List<Entry>> load() {
			return this.delegate.load().doOnSuccess(entries -> this.loads.incrementAndGet());
		}

		@Override
		public Flux<?> changes() {
			return this.delegate.changes();
		}
	}

	ReplicatedDataSource catalog(String name, Topology.Engine engine, Topology.Server... replicas) {
		ReplicatedDataSource.Builder builder = ReplicatedDataSource.builder(name)
				.primary(engine.url(engine.primary()))
				.probeInterval(Duration.ofMillis(200))
				.pool(pool -> pool.initialSize(0).maxSize(2).maxAcquireTime(Duration.ofSeconds(2))
						.maxCreateConnectionTime(Duration.ofSeconds(2)));
		for (Topology.Server replica : replicas) {
			builder.replica(engine.url(replica));
		}
		ReplicatedDataSource catalog = builder.build();
		this.closing.add(catalog::close);
		return catalog;
	}

	/** The table of {@link TableTenantSource#ddl}, created afresh, and dropped after the test. */
	void createCatalog(Topology.Engine engine, Topology.Server primary, String table) throws SQLException {
		jdbc(engine, primary, "DROP TABLE IF EXISTS " + table);
		jdbc(engine, primary, TableTenantSource.ddl(engine(engine), table));
		engine.awaitTable(table);
		dropOnTearDown(engine, table);
	}

	void dropOnTearDown(Topology.Engine engine, String table) {
		Topology.Server primary = engine.primary();
		this.dropping.add(() -> {
			try {
				jdbc(engine, primary, "DROP TABLE IF EXISTS " + table);
			}
			catch (SQLException ex) {
				throw new IllegalStateException(ex);
			}
		});
	}

	static Engine engine(Topology.Engine engine) {
		return engine.kind() == Topology.Kind.POSTGRESQL ? Engine.POSTGRESQL : Engine.MARIADB;
	}

	/** The backends LISTENing on the table's channel, by their pid, from the server's own view. */
	static List<Object> listening(Topology.Engine engine, String table) {
		return Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT pid FROM pg_stat_activity WHERE query = $1", "LISTEN \"" + table + "\"").stream()
			.map(row -> row.get("pid")).toList();
	}

	/** Run a statement with plain JDBC, outside Switchboard, on the test thread. */
	static void jdbc(Topology.Engine engine, Topology.Server server, String sql, Object... binds) throws SQLException {
		String url = engine.jdbcUrl(server) + (engine.kind() == Topology.Kind.MARIADB ? "&allowMultiQueries=true" : "");
		try (java.sql.Connection connection = DriverManager.getConnection(url)) {
			if (binds.length == 0) {
				// A script of several statements, as psql would run it.
				try (java.sql.Statement statement = connection.createStatement()) {
					statement.execute(sql);
				}
				return;
			}
			try (PreparedStatement statement = connection.prepareStatement(sql)) {
				for (int i = 0; i < binds.length; i++) {
					statement.setObject(i + 1, binds[i]);
				}
				statement.execute();
			}
		}
	}
}
