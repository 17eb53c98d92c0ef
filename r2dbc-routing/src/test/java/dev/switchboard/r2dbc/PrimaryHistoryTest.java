package dev.switchboard.r2dbc;

import dev.switchboard.api.ReplicationPosition;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class PrimaryHistoryTest {

	static ReplicationPosition wal(int lsn) {
		return ReplicationPosition.parse("0/" + Integer.toHexString(lsn));
	}

	@Test
	void aReplicaAtTheLatestSampleDoesNotLag() {
		PrimaryHistory history = new PrimaryHistory();
		history.add(1_000, wal(10));
		history.add(2_000, wal(20));

		assertThat(history.lag(wal(20), 9_000)).isZero();
		assertThat(history.lag(wal(25), 9_000)).isZero();
	}

	@Test
	void aReplicaBehindLagsByTheAgeOfTheOldestSampleItMisses() {
		PrimaryHistory history = new PrimaryHistory();
		history.add(1_000, wal(10));
		history.add(2_000, wal(20));
		history.add(3_000, wal(30));

		assertThat(history.lag(wal(20), 5_000)).isEqualTo(2_000);
		assertThat(history.lag(wal(15), 5_000)).isEqualTo(3_000);
		assertThat(history.lag(null, 5_000)).as("nothing replayed").isEqualTo(4_000);
	}

	@Test
	void anIdlePrimaryMeansNoLag() {
		PrimaryHistory history = new PrimaryHistory();
		for (int i = 0; i < 100; i++) {
			history.add(i * 1_000L, wal(10));
		}
		assertThat(history.lag(wal(10), 1_000_000)).isZero();
		assertThat(new PrimaryHistory().lag(null, 5)).as("no sample yet").isZero();
	}
}
