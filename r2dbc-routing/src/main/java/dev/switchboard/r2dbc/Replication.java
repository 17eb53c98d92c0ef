package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.Engine;
import dev.switchboard.api.ReplicationPosition;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * How an engine tells replication positions: the primary's position, the position a replica has
 * replayed, the position of a session's last commit, and a bounded wait for a replica to reach a
 * position (by polling it). PostgreSQL uses WAL locations, MariaDB GTIDs.
 */
enum Replication {

	/** PostgreSQL streaming replication: WAL locations. */
	POSTGRESQL("SELECT pg_current_wal_lsn()::text", "SELECT pg_last_wal_replay_lsn()::text",
			"SELECT pg_current_wal_lsn()::text"),

	/** MariaDB GTID replication: GTID positions, compared per domain. */
	MARIADB("SELECT @@GLOBAL.gtid_binlog_pos", "SELECT @@GLOBAL.gtid_slave_pos", "SELECT @@SESSION.last_gtid");

	/** How long a PostgreSQL replica's replay location is polled between two looks: a standby on a good network replays a commit within a millisecond or two. */
	private static final Duration POLL = Duration.ofMillis(2);

	private final String primaryPosition;

	private final String replayedPosition;

	private final String committedPosition;

	Replication(String primaryPosition, String replayedPosition, String committedPosition) {
		this.primaryPosition = primaryPosition;
		this.replayedPosition = replayedPosition;
		this.committedPosition = committedPosition;
	}

	/**
	 * Return the replication of the engine a connection leads to.
	 * @param connection an open connection
	 * @return the replication, or {@code null} for engines without positions Switchboard knows
	 * (H2, MySQL)
	 */
	static @Nullable Replication of(Connection connection) {
		Engine engine = Engine.fromProduct(connection.getMetadata().getDatabaseProductName(),
				connection.getMetadata().getDatabaseVersion());
		return engine == Engine.POSTGRESQL ? POSTGRESQL : engine == Engine.MARIADB ? MARIADB : null;
	}

	/**
	 * The replication of one datasource, told from its first connection and then remembered: the
	 * probe and the causal reads of a datasource share one.
	 */
	static final class Detected {

		private volatile @Nullable Replication replication;

		private volatile boolean known;

		/**
		 * Return the replication of the engine {@code connection} leads to.
		 * @return the replication, or empty for engines without positions Switchboard knows
		 */
		Mono<Replication> of(Connection connection) {
			if (!this.known) {
				this.replication = Replication.of(connection);
				this.known = true;
			}
			return Mono.justOrEmpty(this.replication);
		}
	}

	/**
	 * The primary's current position; empty when it has written nothing yet. Each query here is
	 * shielded from a cancel (see {@link CancelShield}) and counted in {@code drains} while it runs
	 * on after one, so that the connection's release can wait for it.
	 */
	Mono<ReplicationPosition> primaryPosition(Connection connection, @Nullable Drains drains) {
		return position(connection, this.primaryPosition, drains);
	}

	/** The position a replica has replayed; empty when it has replayed nothing yet. */
	Mono<ReplicationPosition> replayedPosition(Connection connection, @Nullable Drains drains) {
		return position(connection, this.replayedPosition, drains);
	}

	/** The position after the session's last commit on the primary; empty when it wrote nothing. */
	Mono<ReplicationPosition> committedPosition(Connection connection) {
		// Part of a release, which nothing cancels: nothing to count.
		return position(connection, this.committedPosition, null);
	}

	/**
	 * Wait, at most {@code timeout}, for a replica to replay {@code wanted}.
	 * @return the replica's position when it covers {@code wanted}, else empty
	 */
	Mono<ReplicationPosition> await(Connection connection, ReplicationPosition wanted, Duration timeout,
			Drains drains) {
		// Polled on both engines. MariaDB's MASTER_GTID_WAIT would wait in one round trip, but a
		// cancelled wait runs to its end (see CancelShield) and holds the replica's connection for
		// up to the whole timeout; a cancelled poll holds it for one short statement.
		long deadline = System.nanoTime() + timeout.toNanos();
		return replayedPosition(connection, drains)
				.filter(position -> position.covers(wanted))
				.repeatWhenEmpty(attempts -> attempts.takeWhile(attempt -> System.nanoTime() < deadline)
						.delayElements(POLL));
	}

	private static Mono<ReplicationPosition> position(Connection connection, String sql, @Nullable Drains drains) {
		return CancelShield.results(connection.createStatement(sql).execute(), null, drains, null)
				.concatMap(result -> result.map((row, metadata) -> {
					String value = row.get(0, String.class);
					return value == null ? "" : value.strip();
				}))
				// last(), not next(): the one-row result runs to its end instead of being cancelled.
				.last("")
				.filter(value -> !value.isEmpty())
				.map(ReplicationPosition::parse);
	}
}
