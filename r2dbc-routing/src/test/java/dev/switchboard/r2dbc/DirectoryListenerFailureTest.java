package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.TenantId;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A listener that throws is a bug of the application's, but the change it is told of has taken
 * effect: the operation completes, the old placement still drains, a removed datasource is still
 * disposed.
 */
class DirectoryListenerFailureTest {

	final FakeDataSource pg = new FakeDataSource("pg-main");

	final FakeDataSource spare = new FakeDataSource("spare");

	final TenantDirectory directory = TenantDirectory.builder()
			.dataSource(this.pg)
			.dataSource(this.spare)
			.tenant("acme", "pg-main")
			.listener(new Throwing())
			.build();

	@Test
	void aMoveWhoseListenerThrowsStillCompletesAndDrains() {
		try (this.directory) {
			this.directory.move(TenantId.of("acme"), Placement.on("spare")).block(Duration.ofSeconds(1));

			assertThat(this.directory.entries()).extracting(DirectoryEntry::state)
					.containsExactly(DirectoryEntry.State.ACTIVE);
		}
	}

	@Test
	void aRemovedDataSourceWhoseListenerThrowsIsStillDisposed() {
		try (this.directory) {
			this.directory.removeDataSource("spare").block(Duration.ofSeconds(1));

			assertThat(this.spare.disposals).hasValue(1);
		}
	}

	static final class Throwing implements DirectoryListener {

		@Override
		public void moved(TenantId tenant, Placement from, Placement to) {
			throw new IllegalStateException("a listener's bug");
		}

		@Override
		public void dataSourceRemoved(String dataSource) {
			throw new IllegalStateException("a listener's bug");
		}
	}
}
