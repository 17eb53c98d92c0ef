package dev.switchboard.r2dbc.test;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.Result;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Counts what transactions left behind from outside the code under test: with plain unpooled
 * driver connections as an administrator, and from the servers' own views. The all-or-nothing
 * tests give each transaction an id and two rows, then ask here how many rows each id has, whether
 * any server session of their database sits idle inside a transaction, and whether the pooled
 * connections, borrowed straight from r2dbc-pool, start outside one. Blocking: test thread only.
 */
public final class TransactionAudit {

	private static final Duration TIMEOUT = Duration.ofSeconds(30);

	private TransactionAudit() {
	}

	/**
	 * Return an unpooled driver connection factory on the primary of {@code engine}, in
	 * {@code database}, as the administrator (PostgreSQL {@code postgres}, MariaDB {@code root}),
	 * who may read every session in the servers' views.
	 * @param engine the engine
	 * @param database the database
	 * @return a new connection factory, never pooled, never routed
	 */
	public static ConnectionFactory direct(Topology.Engine engine, String database) {
		return ConnectionFactories.get(switch (engine.kind()) {
			case POSTGRESQL -> "r2dbc:postgresql://postgres@" + engine.primary() + "/" + database;
			case MARIADB -> "r2dbc:mysql://root@" + engine.primary() + "/" + database + "?sslMode=DISABLED";
		});
	}

	/**
	 * Create {@code database} on the engine (once), and in it a table of transaction rows
	 * {@code (tx, n)}, and wait until both replicas have it.
	 * @param engine the engine
	 * @param database a database only the calling test class uses
	 * @param table the table name
	 */
	public static void createTransactionTable(Topology.Engine engine, String database, String table) {
		engine.createDatabase(database);
		Sql.execute(direct(engine, database), "CREATE TABLE IF NOT EXISTS " + table
				+ " (tx VARCHAR(80) NOT NULL, n INT NOT NULL, PRIMARY KEY (tx, n))");
		engine.awaitReplicated(database, "SELECT count(*) FROM " + table);
	}

	/**
	 * Return the number of rows of each transaction id that starts with {@code prefix}, as the
	 * primary holds them; ids without rows are absent.
	 * @param engine the engine
	 * @param database the database
	 * @param table the table of {@link #createTransactionTable}
	 * @param prefix the run's id prefix
	 * @return rows per transaction id
	 */
	public static Map<String, Integer> rowsPerTransaction(Topology.Engine engine, String database, String table,
			String prefix) {
		Map<String, Integer> rows = new HashMap<>();
		for (Map<String, Object> row : Sql.query(direct(engine, database), "SELECT tx, count(*) AS c FROM " + table
				+ " WHERE tx LIKE " + engine.kind().placeholder() + " GROUP BY tx", prefix + "%")) {
			rows.put((String) row.get("tx"), ((Number) row.get("c")).intValue());
		}
		return rows;
	}

	/**
	 * Return how many server sessions of {@code database} are idle inside a transaction, after
	 * giving a release in flight up to {@code settle} to finish: PostgreSQL
	 * {@code pg_stat_activity.state} 'idle in transaction%', MariaDB a sleeping session that owns
	 * a row of {@code information_schema.innodb_trx}, from a snapshot of it known to be taken
	 * after the count began (InnoDB serves a cached one for as long as it is read at least every
	 * 100 ms).
	 * @param engine the engine
	 * @param database a database only the calling test class uses
	 * @param settle how long to wait for the count to reach zero
	 * @return the sessions still idle in a transaction after {@code settle}
	 */
	public static int idleInTransaction(Topology.Engine engine, String database, Duration settle) {
		long deadline = System.nanoTime() + settle.toNanos();
		int idle = countIdleInTransaction(engine, database);
		while (idle > 0 && System.nanoTime() < deadline) {
			sleep(50);
			idle = countIdleInTransaction(engine, database);
		}
		return idle;
	}

	private static int countIdleInTransaction(Topology.Engine engine, String database) {
		if (engine.kind() == Topology.Kind.MARIADB) {
			return countIdleInTransactionMariaDb(engine, database);
		}
		String sql = "SELECT count(*) AS c FROM pg_stat_activity WHERE datname = $1"
				+ " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()";
		return ((Number) Sql.query(direct(engine, database), sql, database).get(0).get("c")).intValue();
	}

	/**
	 * How long InnoDB keeps serving the same snapshot of {@code information_schema.innodb_trx}:
	 * it takes a new one only if nobody read the last one for 100 ms ({@code CACHE_MIN_IDLE_TIME}
	 * in {@code trx0i_s.cc}), and every read, by any session, restarts that clock.
	 */
	private static final Duration INNODB_TRX_CACHE_IDLE = Duration.ofMillis(100);

	/** How long to wait for a snapshot of {@code innodb_trx} taken after the count began. */
	private static final Duration FRESH_SNAPSHOT_TIMEOUT = Duration.ofSeconds(10);

	/**
	 * MariaDB: {@code innodb_trx} is a cached snapshot of unknown age, and a reader who polls it
	 * more often than every 100 ms never sees a new one: a session that began a transaction in
	 * between is missing (a false zero), one that ended it is still there. So the count opens its
	 * own InnoDB transaction first, and trusts only a snapshot that lists it; an older one is read
	 * again once the cache may refresh. The processlist, joined in the same query, is live.
	 */
	private static int countIdleInTransactionMariaDb(Topology.Engine engine, String database) {
		String sql = "SELECT COALESCE(SUM(t.trx_mysql_thread_id = CONNECTION_ID()), 0) AS own,"
				+ " COALESCE(SUM(p.db = ? AND p.command = 'Sleep'), 0) AS idle"
				+ " FROM information_schema.innodb_trx t"
				+ " LEFT JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id";
		ConnectionFactory factory = direct(engine, database);
		long deadline = System.nanoTime() + FRESH_SNAPSHOT_TIMEOUT.toNanos();
		int stale = 0;
		while (true) {
			long[] counts = Mono.usingWhen(factory.create(),
					connection -> Flux.from(connection.createStatement("START TRANSACTION WITH CONSISTENT SNAPSHOT")
							.execute())
							.concatMap(Result::getRowsUpdated)
							.then(Flux.from(connection.createStatement(sql).bind(0, database).execute())
									.concatMap(result -> result.map(row -> new long[] {
											((Number) row.get("own")).longValue(), ((Number) row.get("idle")).longValue() }))
									.single()),
					Connection::close)
					.block(TIMEOUT);
			if (counts[0] > 0) {
				return (int) counts[1];
			}
			stale++;
			if (System.nanoTime() > deadline) {
				throw new IllegalStateException("information_schema.innodb_trx served " + stale + " snapshots older than the"
						+ " count's own transaction for " + FRESH_SNAPSHOT_TIMEOUT + ": another session reads it more"
						+ " often than every " + INNODB_TRX_CACHE_IDLE.toMillis() + " ms, so sessions idle in a"
						+ " transaction cannot be counted");
			}
			// Not a guessed wait: the cache refreshes only after this long without a read, ours included.
			sleep(INNODB_TRX_CACHE_IDLE.toMillis() + 20);
		}
	}

	/**
	 * Borrow {@code size} connections of {@code pool} at once, straight from r2dbc-pool, so that
	 * each idle connection is handed out, and return how many of them are inside a transaction.
	 * PostgreSQL: a {@code SAVEPOINT} succeeds only inside a transaction block (outside it fails
	 * with 25P01); MariaDB: {@code @@in_transaction}. A connection found inside one is rolled back
	 * before it goes back.
	 * @param pool the pool of a primary
	 * @param kind the engine
	 * @param size how many to borrow at once (the pool's maximum size)
	 * @return the connections that started inside a transaction
	 */
	public static int pooledConnectionsInATransaction(ConnectionPool pool, Topology.Kind kind, int size) {
		if (size == 0) {
			return 0;
		}
		List<Connection> borrowed = Flux.range(0, size).flatMap(i -> pool.create(), size).collectList().block(TIMEOUT);
		try {
			int inTransaction = 0;
			for (Connection connection : borrowed) {
				if (Boolean.TRUE.equals(inTransaction(connection, kind).block(TIMEOUT))) {
					inTransaction++;
					Mono.from(connection.createStatement("ROLLBACK").execute()).flatMap(r -> Mono.from(r.getRowsUpdated()))
							.onErrorResume(ex -> Mono.empty()).block(TIMEOUT);
				}
			}
			return inTransaction;
		}
		finally {
			Flux.fromIterable(borrowed).concatMap(Connection::close).then().block(TIMEOUT);
		}
	}

	/**
	 * Tell whether a connection is inside a transaction, as {@link #pooledConnectionsInATransaction}
	 * asks it (it may leave a savepoint behind on PostgreSQL when the answer is yes).
	 * @param connection the connection
	 * @param kind its engine
	 * @return whether it is inside a transaction
	 */
	public static Mono<Boolean> inTransaction(Connection connection, Topology.Kind kind) {
		if (kind == Topology.Kind.MARIADB) {
			return Flux.from(connection.createStatement("SELECT @@in_transaction").execute())
					.concatMap(result -> result.map(row -> ((Number) row.get(0)).intValue() != 0))
					.single();
		}
		return Flux.from(connection.createStatement("SAVEPOINT switchboard_audit").execute())
				.concatMap(result -> result.getRowsUpdated())
				.then(Mono.just(true))
				.onErrorResume(R2dbcException.class,
						ex -> Mono.just(!NO_ACTIVE_TRANSACTION.contains(ex.getSqlState())));
	}

	/** PostgreSQL's "SAVEPOINT can only be used in transaction blocks". */
	private static final Set<String> NO_ACTIVE_TRANSACTION = Set.of("25P01");

	/**
	 * The outcome of a run of two-row transactions, counted outside the framework.
	 * @param label what ran, for the report
	 * @param transactions how many were started
	 * @param committed ids with both rows
	 * @param rolledBack ids with none
	 * @param torn ids with one row only
	 * @param receivedNotCommitted ids whose result reached the subscriber but that have no rows
	 */
	public record Tally(String label, int transactions, int committed, int rolledBack, int torn,
			int receivedNotCommitted) {

		/**
		 * Count a run.
		 * @param label what ran
		 * @param ids every transaction id of the run
		 * @param rows rows per id, from {@link #rowsPerTransaction}
		 * @param received ids whose result the subscriber received
		 * @return the tally
		 */
		public static Tally of(String label, Iterable<String> ids, Map<String, Integer> rows, Set<String> received) {
			int total = 0, committed = 0, rolledBack = 0, torn = 0, receivedNotCommitted = 0;
			for (String id : ids) {
				total++;
				int n = rows.getOrDefault(id, 0);
				if (n == 2) {
					committed++;
				}
				else if (n == 0) {
					rolledBack++;
				}
				else {
					torn++;
				}
				if (received.contains(id) && n != 2) {
					receivedNotCommitted++;
				}
			}
			return new Tally(label, total, committed, rolledBack, torn, receivedNotCommitted);
		}

		@Override
		public String toString() {
			return String.format("%s: %d transactions cancelled at random; committed %d, rolled back %d, torn %d;"
					+ " result received but not committed %d", this.label, this.transactions, this.committed,
					this.rolledBack, this.torn, this.receivedNotCommitted);
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new AssertionError("interrupted", ex);
		}
	}
}
