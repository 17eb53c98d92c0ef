package dev.switchboard.r2dbc;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;

class StatementsTest {

	@ParameterizedTest
	@ValueSource(strings = { "SELECT 1", "select \"t\".\"id\" from \"t\" where \"t\".\"id\" = $1",
			"  /* hint */ SELECT count(*) FROM t", "-- note\nselect id from t where id in (?, ?)",
			"SELECT pg_last_wal_replay_lsn", "SHOW server_version", "SELECT max(id) FROM t;",
			"SELECT id FROM t WHERE id IN (SELECT id FROM u)", "EXPLAIN SELECT * FROM t" })
	void aStatementThatCannotWriteIsARead(String sql) {
		assertThat(Statements.isRead(sql)).isTrue();
	}

	@ParameterizedTest
	@ValueSource(strings = { "INSERT INTO t VALUES (1)", "UPDATE t SET a = 1", "DELETE FROM t",
			"WITH d AS (DELETE FROM t RETURNING id) SELECT * FROM d", "SELECT nextval('s')", "SELECT setval('s', 3)",
			"SELECT my_function(1)", "SELECT pg_advisory_lock(1)", "SELECT 1; DELETE FROM t",
			"SELECT * INTO backup FROM t", "EXPLAIN ANALYZE DELETE FROM t", "CALL p()", "" })
	void anythingElseMayWrite(String sql) {
		assertThat(Statements.isRead(sql)).isFalse();
	}
}
