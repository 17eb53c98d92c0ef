package dev.switchboard.jooq;

import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.Placement;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.r2dbc.TenantDirectoryBuilder;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tenant directory under load on the real topology: 64 pipelines read and write, through the
 * jOOQ facade, the per-datasource DSL and plain R2DBC, for 50 tenants on both engines, while 200
 * tenants are onboarded, 100 offboarded, 20 moved between PostgreSQL and MariaDB, and a datasource
 * is added and removed. Every outcome is counted outside the framework, in plain JDBC against the
 * primaries and the servers' own session views.
 */
@ExtendWith(DevDatabases.class)
class TenantDirectoryLoadIT {

	static final int PIPELINES = 64;

	static final int STAYING = 50;

	static final int ONBOARDED = 200;

	static final int OFFBOARDED = 100;

	static final int MOVED = 20;

	/** Of the onboarded tenants, the first ones go to the datasource added during the run. */
	static final int ON_EXTRA = 10;

	static final String EXTRA_APPLICATION = "dirload-extra";

	static final String ROLLBACK = "rolled back by its code";

	static final Table<Record> ROWS = DSL.table(DSL.name("dirload_rows"));

	static final Field<String> TENANT = DSL.field(DSL.name("tenant"), String.class);

	static final Field<String> TX = DSL.field(DSL.name("tx"), String.class);

	static final Field<String> PATH = DSL.field(DSL.name("path"), String.class);

	/**
	 * What a tenant is at a moment; requests pick only tenants past {@code PENDING}. A request that
	 * starts while the tenant is {@code OFFBOARDING} may be served or refused; one that starts once
	 * it is {@code OFFBOARDED} (the offboard's snapshot swapped) must be refused.
	 */
	enum State {
		PENDING, ACTIVE, OFFBOARDING, OFFBOARDED
	}

	/** A tenant of the run, with what the driver did to it. */
	static final class Tenant {

		final TenantId id;

		final boolean staying;

		volatile State state;

		volatile String placement;

		/** nanoTime of the offboard's snapshot swap; 0 until then. */
		volatile long offboardedAt;

		Tenant(String id, boolean staying, String placement) {
			this.id = TenantId.of(id);
			this.staying = staying;
			this.placement = placement;
			this.state = staying ? State.ACTIVE : State.PENDING;
		}
	}

	/** A transaction and what its code said: commit, or roll back. */
	record Tx(Tenant tenant, boolean commit, long start, long end, boolean succeeded, String failure) {
	}

	Topology topology;

	ReplicatedDataSource pg;

	ReplicatedDataSource maria;

	ReplicatedDataSource extra;

	TenantDirectory directory;

	RoutingConnectionFactory routing;

	RoutedDsl dsl;

	final List<Tenant> tenants = new ArrayList<>();

	volatile boolean running = true;

	final Map<String, LongAdder> requests = new ConcurrentHashMap<>();

	final LongAdder failedStaying = new LongAdder();

	final LongAdder offboardedRefused = new LongAdder();

	final LongAdder offboardedServed = new LongAdder();

	final LongAdder cutByOffboard = new LongAdder();

	final List<String> failures = new CopyOnWriteArrayList<>();

	final Map<String, Tx> transactions = new ConcurrentHashMap<>();

	/** The driver's JDBC connections, one per server, autocommit: each count sees what is committed. */
	final Map<String, java.sql.Connection> jdbc = new ConcurrentHashMap<>();

	/** Not UUIDs: SecureRandom blocks, and the pipelines run on event loops. */
	final AtomicLong txIds = new AtomicLong();

	@Test
	void tenantsComeAndGoUnderLoadWithoutAFailedRequestOrAStrayRow(Topology topology) throws Exception {
		this.topology = topology;
		createTable();
		buildDirectory();
		long started = System.nanoTime();
		Mono<Void> load = Flux.range(0, PIPELINES)
				.flatMap(pipeline -> Mono.defer(this::request).repeat(() -> this.running), PIPELINES)
				.then()
				.cache();
		load.subscribe();

		Map<Tenant, long[]> offboardMarks = new ConcurrentHashMap<>();
		Map<Tenant, long[]> moveMarks = new ConcurrentHashMap<>();
		List<Tx> driverTransactions = new ArrayList<>();
		String removal = drive(offboardMarks, moveMarks, driverTransactions);
		long driven = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
		Thread.sleep(1_000);
		this.running = false;
		load.block(Duration.ofSeconds(60));
		long seconds = Math.max(1, TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started));

		// Counted outside: rows that reached an old placement after its drain completed.
		long afterOffboard = rowsAfter(offboardMarks);
		long afterMove = rowsAfter(moveMarks);
		long[] tx = checkTransactions();

		long total = this.requests.values().stream().mapToLong(LongAdder::sum).sum();
		System.out.printf("directory load: %d requests in %d s %s; staying tenants' failed requests %d; "
				+ "requests for offboarded tenants %d, refused TENANT_OFFBOARDED %d, served %d; requests cut by an "
				+ "offboard %d; rows after offboard %d; rows by moved tenants on the old placement after the move %d; "
				+ "transactions %d (%d running at an offboard: %d committed, %d rolled back as their code said), "
				+ "outcome mismatches %d; datasource removal: %s%n",
				total, seconds, this.requests, this.failedStaying.sum(),
				this.offboardedRefused.sum() + this.offboardedServed.sum(), this.offboardedRefused.sum(),
				this.offboardedServed.sum(), this.cutByOffboard.sum(), afterOffboard, afterMove, tx[0], tx[1], tx[2],
				tx[3], tx[4], removal);
		this.failures.stream().limit(10).forEach(failure -> System.out.println("  failure: " + failure));

		assertThat(this.failures).as("failed requests of tenants that stay").isEmpty();
		assertThat(this.failedStaying.sum()).isZero();
		assertThat(this.offboardedServed.sum()).as("requests for offboarded tenants that were served").isZero();
		assertThat(this.offboardedRefused.sum()).isPositive();
		assertThat(afterOffboard).as("rows written after an offboard completed").isZero();
		assertThat(afterMove).as("rows written to the old placement after a move completed").isZero();
		assertThat(tx[4]).as("transactions whose rows do not match what their code said").isZero();
		assertThat(tx[1]).as("transactions running at an offboard").isGreaterThanOrEqualTo(OFFBOARDED);
		assertThat(removal).isEqualTo("disposed, 0 sessions");
		System.out.println("driver done after " + driven + " ms");
		for (java.sql.Connection connection : this.jdbc.values()) {
			connection.close();
		}
		this.directory.dispose();
	}

	// ---- setup

	void createTable() throws SQLException {
		execute(Topology.Kind.POSTGRESQL, "CREATE TABLE IF NOT EXISTS dirload_rows (id BIGSERIAL PRIMARY KEY, "
				+ "tenant VARCHAR(64) NOT NULL, tx VARCHAR(64), path VARCHAR(16), "
				+ "written_at TIMESTAMP(6) NOT NULL DEFAULT clock_timestamp())");
		execute(Topology.Kind.MARIADB, "CREATE TABLE IF NOT EXISTS dirload_rows (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
				+ "tenant VARCHAR(64) NOT NULL, tx VARCHAR(64), path VARCHAR(16), "
				+ "written_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))");
		for (Topology.Kind kind : Topology.Kind.values()) {
			execute(kind, "DELETE FROM dirload_rows");
			this.topology.engine(kind).awaitTable("dirload_rows");
		}
	}

	void buildDirectory() {
		Topology.Engine postgres = this.topology.postgres();
		Topology.Engine mariadb = this.topology.mariadb();
		this.pg = Fixtures.dataSource("pg-main", postgres, 16, postgres.replica(), postgres.laggingReplica());
		this.maria = Fixtures.dataSource("maria-main", mariadb, 16, mariadb.replica(), mariadb.laggingReplica());
		String run = Long.toString(System.currentTimeMillis() % 100_000, 36);
		TenantDirectoryBuilder builder = TenantDirectory.builder().dataSource(this.pg).dataSource(this.maria);
		for (int i = 0; i < STAYING; i++) {
			Tenant tenant = new Tenant(run + "-stay-" + i, true, i % 2 == 0 ? "pg-main" : "maria-main");
			builder.tenant(tenant.id.value(), tenant.placement);
			this.tenants.add(tenant);
		}
		for (int i = 0; i < ONBOARDED; i++) {
			this.tenants.add(new Tenant(run + "-new-" + i, false,
					i < ON_EXTRA ? "pg-extra" : i % 2 == 0 ? "pg-main" : "maria-main"));
		}
		this.directory = builder.build();
		this.routing = new RoutingConnectionFactory(this.directory);
		this.dsl = RoutedDsl.builder(this.routing)
				.dialect("pg-main", SQLDialect.POSTGRES)
				.dialect("maria-main", SQLDialect.MARIADB)
				.build();
	}

	// ---- the driver: onboards, moves, offboards, adds and removes a datasource, in one thread

	String drive(Map<Tenant, long[]> offboardMarks, Map<Tenant, long[]> moveMarks, List<Tx> driverTransactions)
			throws Exception {
		Topology.Engine postgres = this.topology.postgres();
		String application = "?applicationName=" + EXTRA_APPLICATION;
		this.extra = ReplicatedDataSource.builder("pg-extra")
				.primary(postgres.url(postgres.primary()) + application)
				.replica(postgres.url(postgres.replica()) + application)
				.pool(pool -> pool.initialSize(0).maxSize(4).maxAcquireTime(Duration.ofSeconds(10)))
				.build();
		this.directory.addDataSource(this.extra).block(Duration.ofSeconds(5));
		this.directory.onboard(onboardedProbe(), Placement.on("pg-extra")).block(Duration.ofSeconds(5));
		Throwable facade = this.dsl.database()
				.execute(dsl -> dsl.insertInto(ROWS, TENANT, PATH).values("probe", "facade-probe"))
				.contextWrite(RoutingContext.forTenant(onboardedProbe()))
				.then(Mono.<Throwable>empty())
				.onErrorResume(Mono::just)
				.block(Duration.ofSeconds(5));
		System.out.println("facade call for a tenant on a datasource added at runtime: "
				+ (facade == null ? "served" : facade.toString()));
		this.directory.offboard(onboardedProbe()).block(Duration.ofSeconds(5));
		List<Tenant> onboarded = this.tenants.subList(STAYING, STAYING + ONBOARDED);
		List<Tenant> moving = this.tenants.subList(0, MOVED);
		int offboarded = 0;
		int moved = 0;
		String removal = "not removed";
		for (int i = 0; i < ONBOARDED; i++) {
			Tenant tenant = onboarded.get(i);
			this.directory.onboard(tenant.id, Placement.on(tenant.placement)).block(Duration.ofSeconds(5));
			tenant.state = State.ACTIVE;
			// One offboard for every onboard past the 40th, oldest first; a move for every tenth.
			if (i >= 40 && offboarded < OFFBOARDED) {
				offboard(onboarded.get(offboarded++), offboardMarks, driverTransactions);
			}
			if (offboarded == ON_EXTRA && removal.equals("not removed")) {
				removal = removeExtra();
			}
			if (i % 10 == 5 && moved < MOVED) {
				move(moving.get(moved++), moveMarks);
			}
			Thread.sleep(10);
		}
		while (offboarded < OFFBOARDED) {
			offboard(onboarded.get(offboarded++), offboardMarks, driverTransactions);
		}
		while (moved < MOVED) {
			move(moving.get(moved++), moveMarks);
		}
		return removal;
	}

	TenantId onboardedProbe() {
		return TenantId.of(this.tenants.get(0).id.value().replace("-stay-0", "-probe"));
	}

	/**
	 * Offboard a tenant while a transaction of its own runs (committing or rolling back, by turns),
	 * then mark what its old placement holds once the offboard completed.
	 */
	void offboard(Tenant tenant, Map<Tenant, long[]> marks, List<Tx> driverTransactions) throws Exception {
		boolean commit = marks.size() % 2 == 0;
		// Tenants on the datasource added during the run are driven through plain R2DBC only (the
		// facade on a datasource added at runtime is LateDataSourceIT's).
		Mono<?> running = tenant.placement.equals("pg-extra") ? Mono.empty()
				: transaction(tenant, "driver", commit, Duration.ofMillis(80)).cache();
		running.subscribe(null, failure -> {
		});
		Thread.sleep(20);
		Mono<Void> offboard = this.directory.offboard(tenant.id);
		// Before the swap: a request refused in between is not a staying tenant's failure.
		tenant.state = State.OFFBOARDING;
		var done = offboard.toFuture();
		tenant.offboardedAt = System.nanoTime();
		tenant.state = State.OFFBOARDED;
		done.get(20, TimeUnit.SECONDS);
		marks.put(tenant, mark(tenant, tenant.placement));
		running.onErrorComplete().block(Duration.ofSeconds(10));
	}

	void move(Tenant tenant, Map<Tenant, long[]> marks) throws Exception {
		String from = tenant.placement;
		String to = from.equals("pg-main") ? "maria-main" : "pg-main";
		var done = this.directory.move(tenant.id, Placement.on(to)).toFuture();
		tenant.placement = to;
		done.get(20, TimeUnit.SECONDS);
		marks.put(tenant, mark(tenant, from));
	}

	/**
	 * Remove the datasource added during the run once its tenants are offboarded: it must be
	 * disposed, and its server must see no session of it.
	 */
	String removeExtra() throws Exception {
		this.directory.removeDataSource("pg-extra").block(Duration.ofSeconds(20));
		boolean disposed = this.extra.isDisposed();
		long[] sessions = { -1 };
		try {
			Await.until(Duration.ofSeconds(10), () -> {
			sessions[0] = queryLong(Topology.Kind.POSTGRESQL, this.topology.postgres().primary(),
					"SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", EXTRA_APPLICATION)
					+ queryLong(Topology.Kind.POSTGRESQL, this.topology.postgres().replica(),
							"SELECT count(*) FROM pg_stat_activity WHERE application_name = ?", EXTRA_APPLICATION);
			return sessions[0] == 0;
			});
		}
		catch (AssertionError | RuntimeException ex) {
			// Reported below with the count last seen.
		}
		return (disposed ? "disposed" : "NOT disposed") + ", " + sessions[0] + " sessions";
	}

	// ---- the pipelines' requests

	Mono<Void> request() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		Tenant tenant = pick(random);
		long start = System.nanoTime();
		boolean gone = tenant.state == State.OFFBOARDED;
		boolean onExtra = tenant.placement.equals("pg-extra");
		int kind = onExtra ? 4 : random.nextInt(6);
		String path = switch (kind) {
			case 0 -> "facade-read";
			case 1 -> "facade-write";
			case 2 -> "facade-tx";
			case 3 -> "dsl-write";
			case 4 -> "r2dbc-write";
			default -> "dsl-read";
		};
		Mono<?> work = switch (kind) {
			case 0 -> this.dsl.database()
					.query(dsl -> dsl.selectCount().from(ROWS).where(TENANT.eq(tenant.id.value())))
					.then();
			case 1 -> this.dsl.database()
					.execute(dsl -> dsl.insertInto(ROWS, TENANT, PATH).values(tenant.id.value(), path));
			case 2 -> transaction(tenant, "pipeline", random.nextInt(4) != 0, Duration.ofMillis(random.nextInt(20)));
			case 3 -> Mono.deferContextual(context -> {
				DSLContext dsl = this.dsl.dsl(this.directory.obtainDataSource(tenant.id), AccessIntent.WRITE);
				return Mono.from(dsl.insertInto(ROWS, TENANT, PATH).values(tenant.id.value(), path));
			});
			case 4 -> plainInsert(tenant, path);
			default -> Mono.deferContextual(context -> {
				DSLContext dsl = this.dsl.dsl(this.directory.obtainDataSource(tenant.id), AccessIntent.READ);
				return Flux.from(dsl.selectCount().from(ROWS).where(TENANT.eq(tenant.id.value()))).then();
			});
		};
		this.requests.computeIfAbsent(path, key -> new LongAdder()).increment();
		return work.contextWrite(RoutingContext.forTenant(tenant.id))
				.then(Mono.fromRunnable(() -> served(tenant, gone, start)))
				.onErrorResume(failure -> {
					failed(tenant, gone, path, failure);
					return Mono.empty();
				})
				.then();
	}

	/** A tenant past onboarding; offboarded ones one time in four they come up. */
	Tenant pick(ThreadLocalRandom random) {
		while (true) {
			Tenant tenant = this.tenants.get(random.nextInt(this.tenants.size()));
			if (tenant.state == State.ACTIVE || tenant.state == State.OFFBOARDING
					|| (tenant.state == State.OFFBOARDED && random.nextInt(4) == 0)) {
				return tenant;
			}
		}
	}

	void served(Tenant tenant, boolean gone, long start) {
		if (gone) {
			this.offboardedServed.increment();
			this.failures.add("served " + tenant.id + " after its offboard");
		}
	}

	void failed(Tenant tenant, boolean gone, String path, Throwable failure) {
		boolean offboardedError = failure instanceof DataError error && error.kind() == DataError.Kind.TENANT_OFFBOARDED;
		if (gone) {
			if (offboardedError) {
				this.offboardedRefused.increment();
			}
			else {
				this.offboardedServed.increment();
				this.failures.add(path + " for offboarded " + tenant.id + ": " + failure);
			}
		}
		else if (tenant.state == State.OFFBOARDING || tenant.state == State.OFFBOARDED) {
			// Offboarded while it ran: refused for the rest, or whatever the cut did.
			this.cutByOffboard.increment();
		}
		else {
			this.failedStaying.increment();
			this.failures.add(path + " for " + tenant.id + " on " + tenant.placement + ": " + failure);
		}
	}

	/**
	 * Two inserts in a facade transaction, with a pause between; rolled back by its own failure
	 * when {@code commit} is false. Recorded under its id for the count outside.
	 */
	Mono<?> transaction(Tenant tenant, String origin, boolean commit, Duration pause) {
		String id = origin + "-" + this.txIds.incrementAndGet();
		return Mono.defer(() -> {
			long start = System.nanoTime();
			return this.dsl.database()
					.transactional(dsl -> Mono.from(dsl.insertInto(ROWS, TENANT, TX, PATH)
									.values(tenant.id.value(), id, "facade-tx"))
							.then(Mono.delay(pause))
							.then(Mono.from(dsl.insertInto(ROWS, TENANT, TX, PATH).values(tenant.id.value(), id,
									"facade-tx")))
							.then(commit ? Mono.just(1) : Mono.error(new IllegalStateException(ROLLBACK))))
					.then()
					.doOnSuccess(done -> this.transactions.put(id,
							new Tx(tenant, commit, start, System.nanoTime(), true, null)))
					.doOnError(failure -> this.transactions.put(id,
							new Tx(tenant, commit, start, System.nanoTime(), false, failure.toString())))
					// The rollback its code asked for is the outcome it wanted: counted outside, not a failure.
					.onErrorResume(failure -> !commit && ROLLBACK.equals(failure.getMessage()), failure -> Mono.empty())
					.contextWrite(RoutingContext.forTenant(tenant.id));
		});
	}

	/** An insert through plain R2DBC on a routed connection, in the SQL of the engine it reached. */
	Mono<?> plainInsert(Tenant tenant, String path) {
		return Flux.usingWhen(this.routing.create(), connection -> {
			String sql = isPostgres(connection) ? "INSERT INTO dirload_rows (tenant, path) VALUES ($1, $2)"
					: "INSERT INTO dirload_rows (tenant, path) VALUES (?, ?)";
			return Flux.from(connection.createStatement(sql).bind(0, tenant.id.value()).bind(1, path).execute())
					.flatMap(Result::getRowsUpdated);
		}, Connection::close).then();
	}

	static boolean isPostgres(Connection connection) {
		return connection.getMetadata().getDatabaseProductName().contains("PostgreSQL");
	}

	// ---- counting outside, in plain JDBC

	/** The tenant's rows on the engine of {@code placement} and that table's highest id, now. */
	long[] mark(Tenant tenant, String placement) throws SQLException {
		Topology.Kind kind = placement.startsWith("pg") ? Topology.Kind.POSTGRESQL : Topology.Kind.MARIADB;
		Topology.Server primary = this.topology.engine(kind).primary();
		long count = queryLong(kind, primary, "SELECT count(*) FROM dirload_rows WHERE tenant = ?", tenant.id.value());
		long maxId = queryLong(kind, primary, "SELECT coalesce(max(id), 0) FROM dirload_rows");
		return new long[] { kind.ordinal(), count, maxId };
	}

	/** Rows committed on the marked engine after each mark: by count, and by the server's sequence. */
	long rowsAfter(Map<Tenant, long[]> marks) throws SQLException {
		long after = 0;
		for (Map.Entry<Tenant, long[]> entry : marks.entrySet()) {
			long[] mark = entry.getValue();
			Topology.Kind kind = Topology.Kind.values()[(int) mark[0]];
			Topology.Server primary = this.topology.engine(kind).primary();
			String tenant = entry.getKey().id.value();
			long count = queryLong(kind, primary, "SELECT count(*) FROM dirload_rows WHERE tenant = ?", tenant);
			long later = queryLong(kind, primary, "SELECT count(*) FROM dirload_rows WHERE tenant = ? AND id > ?",
					tenant, mark[2]);
			if (count != mark[1] || later != 0) {
				System.out.printf("  %s on %s: %d rows at the mark, %d now, %d with a later id%n", tenant, kind,
						mark[1], count, later);
			}
			after += Math.max(count - mark[1], later);
		}
		return after;
	}

	/**
	 * Count each transaction's rows on both primaries: two if it committed, none otherwise.
	 * @return transactions, those running at their tenant's offboard, of which committed and
	 * rolled back, and mismatches
	 */
	long[] checkTransactions() throws SQLException {
		Map<String, Long> rows = new java.util.HashMap<>();
		for (Topology.Kind kind : Topology.Kind.values()) {
			try (var connection = DriverManager.getConnection(this.topology.engine(kind).jdbcUrl(
					this.topology.engine(kind).primary()));
					var statement = connection.createStatement();
					ResultSet result = statement.executeQuery(
							"SELECT tx, count(*) FROM dirload_rows WHERE tx IS NOT NULL GROUP BY tx")) {
				while (result.next()) {
					rows.merge(result.getString(1), result.getLong(2), Long::sum);
				}
			}
		}
		long atOffboard = 0;
		long committed = 0;
		long rolledBack = 0;
		long mismatches = 0;
		for (Map.Entry<String, Tx> entry : this.transactions.entrySet()) {
			Tx tx = entry.getValue();
			long found = rows.getOrDefault(entry.getKey(), 0L);
			boolean expectCommitted = tx.commit && tx.succeeded;
			// The driver's transactions were running (begun, a row written) when their tenant was offboarded.
			boolean driver = entry.getKey().startsWith("driver-");
			if (found != (expectCommitted ? 2 : 0) || (driver && tx.commit != tx.succeeded)) {
				mismatches++;
				System.out.printf("  transaction %s of %s: commit=%s succeeded=%s, %d rows (%s)%n", entry.getKey(),
						tx.tenant.id, tx.commit, tx.succeeded, found, tx.failure);
			}
			long offboardedAt = tx.tenant.offboardedAt;
			if (offboardedAt != 0 && tx.start < offboardedAt && tx.end > offboardedAt) {
				atOffboard++;
				if (found == 2) {
					committed++;
				}
				else if (!tx.commit) {
					rolledBack++;
				}
			}
		}
		return new long[] { this.transactions.size(), atOffboard, committed, rolledBack, mismatches };
	}

	void execute(Topology.Kind kind, String sql) throws SQLException {
		Topology.Engine engine = this.topology.engine(kind);
		try (var connection = DriverManager.getConnection(engine.jdbcUrl(engine.primary()));
				var statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	long queryLong(Topology.Kind kind, Topology.Server server, String sql, Object... binds) {
		try {
			java.sql.Connection connection = this.jdbc.computeIfAbsent(kind.name() + "@" + server, key -> {
				try {
					return DriverManager.getConnection(this.topology.engine(kind).jdbcUrl(server));
				}
				catch (SQLException ex) {
					throw new IllegalStateException(ex);
				}
			});
			return queryLong(connection, sql, binds);
		}
		catch (SQLException ex) {
			throw new IllegalStateException(sql, ex);
		}
	}

	static long queryLong(java.sql.Connection connection, String sql, Object... binds) throws SQLException {
		try (PreparedStatement statement = connection.prepareStatement(sql)) {
			for (int i = 0; i < binds.length; i++) {
				statement.setObject(i + 1, binds[i]);
			}
			try (ResultSet result = statement.executeQuery()) {
				result.next();
				return result.getLong(1);
			}
		}
	}
}
