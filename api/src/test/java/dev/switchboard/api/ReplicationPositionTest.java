package dev.switchboard.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

class ReplicationPositionTest {

	@Test
	void walLocationsCompareAsSixtyFourBitNumbers() {
		ReplicationPosition low = ReplicationPosition.parse("0/3000148");
		ReplicationPosition high = ReplicationPosition.parse("1/0");

		assertThat(high.covers(low)).isTrue();
		assertThat(low.covers(high)).isFalse();
		assertThat(low.covers(ReplicationPosition.parse("0/3000148"))).isTrue();
		assertThat(((ReplicationPosition.WalLocation) high).lsn()).isEqualTo(1L << 32);
		assertThat(ReplicationPosition.parse("16/b374d848")).hasToString("16/B374D848");
		assertThat(low.max(high)).isSameAs(high);
		assertThat(high.max(low)).isSameAs(high);
	}

	@Test
	void gtidPositionsCoverDomainByDomain() {
		ReplicationPosition replica = ReplicationPosition.parse("0-1-42,1-2-7");

		assertThat(replica.covers(ReplicationPosition.parse("0-1-42"))).isTrue();
		assertThat(replica.covers(ReplicationPosition.parse("0-3-40"))).isTrue();
		assertThat(replica.covers(ReplicationPosition.parse("0-1-43"))).isFalse();
		assertThat(replica.covers(ReplicationPosition.parse("2-1-1"))).as("a domain it never saw").isFalse();
		assertThat(replica.covers(ReplicationPosition.parse("1-2-7,0-1-41"))).isTrue();
		assertThat(ReplicationPosition.parse("1-2-7, 0-1-42")).isEqualTo(replica).hasToString("0-1-42,1-2-7");
	}

	@Test
	void maxOfGtidPositionsTakesTheLaterSequenceOfEachDomain() {
		ReplicationPosition merged = ReplicationPosition.parse("0-1-42,1-2-3").max(ReplicationPosition.parse("1-2-9,2-5-1"));

		assertThat(merged).hasToString("0-1-42,1-2-9,2-5-1");
	}

	@Test
	void positionsOfDifferentEnginesNeverCoverEachOther() {
		assertThat(ReplicationPosition.parse("0/1").covers(ReplicationPosition.parse("0-1-1"))).isFalse();
		assertThat(ReplicationPosition.parse("0-1-1").covers(ReplicationPosition.parse("0/1"))).isFalse();
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "/", "0/", "/1", "x/1", "123456789/0", "0/123456789", "0-1", "0-1-", "a-1-2",
			"0-1-2,", "0-1-2,0-1-3", "4294967296-1-1", "0-1-99999999999999999999", "-1-1-1", "0-1-1;DROP" })
	void rejectsWhatIsNotAPosition(String value) {
		assertThatIllegalArgumentException().isThrownBy(() -> ReplicationPosition.parse(value));
	}
}
