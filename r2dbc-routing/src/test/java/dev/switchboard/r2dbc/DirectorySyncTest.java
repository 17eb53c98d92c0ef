package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.switchboard.api.TenantId;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sync with a tenant source, without a server: the source is a list the test edits.
 */
class DirectorySyncTest {

	final FakeDataSource pg = new FakeDataSource("pg-main");

	final FakeDataSource maria = new FakeDataSource("maria-main");

	volatile List<TenantSource.Entry> rows = new ArrayList<>();

	final List<String> rejected = new ArrayList<>();

	final TenantDirectory directory = TenantDirectory.builder()
			.dataSource(this.pg)
			.dataSource(this.maria)
			.tenant("acme", "pg-main")
			.source(() -> Mono.fromSupplier(() -> this.rows), Duration.ofMinutes(1))
			.listener(new DirectoryListener() {
				@Override
				public void entryRejected(String tenant, String problem) {
					DirectorySyncTest.this.rejected.add(tenant);
				}
			})
			.build();

	@Test
	void aNullEntryIsRejectedAloneAndTheOthersApply() {
		try (this.directory) {
			this.rows = Arrays.asList(null, new TenantSource.Entry("globex", "maria-main", "active"));

			this.directory.refresh().block(Duration.ofSeconds(1));

			assertThat(this.directory.placement(TenantId.of("globex"))).isEqualTo(Placement.on("maria-main"));
			assertThat(this.rejected).containsExactly((String) null);
		}
	}

	@Test
	void aConfiguredTenantTheCatalogMovedAndThenNoLongerListsIsNotOffboarded() {
		try (this.directory) {
			this.rows = List.of(new TenantSource.Entry("acme", "maria-main", "active"));
			this.directory.refresh().block(Duration.ofSeconds(1));
			assertThat(this.directory.placement(TenantId.of("acme"))).isEqualTo(Placement.on("maria-main"));

			this.rows = List.of();
			this.directory.refresh().block(Duration.ofSeconds(1));

			// It did not come from the catalog: as when the catalog listed it where it was configured.
			assertThat(this.directory.tenants()).contains(TenantId.of("acme"));
		}
	}

	@Test
	void aTenantOnboardedByTheApiThatTheCatalogMovedAndThenNoLongerListsIsNotOffboarded() {
		try (this.directory) {
			this.directory.onboard("initech", "pg-main").block(Duration.ofSeconds(1));
			this.rows = List.of(new TenantSource.Entry("initech", "maria-main", "active"));
			this.directory.refresh().block(Duration.ofSeconds(1));

			this.rows = List.of();
			this.directory.refresh().block(Duration.ofSeconds(1));

			assertThat(this.directory.tenants()).contains(TenantId.of("initech"));
		}
	}

	@Test
	void aTenantFromTheCatalogThatItNoLongerListsIsOffboarded() {
		try (this.directory) {
			this.rows = List.of(new TenantSource.Entry("globex", "pg-main", "active"));
			this.directory.refresh().block(Duration.ofSeconds(1));
			this.rows = List.of(new TenantSource.Entry("globex", "maria-main", "active"));
			this.directory.refresh().block(Duration.ofSeconds(1));

			this.rows = List.of();
			this.directory.refresh().block(Duration.ofSeconds(1));

			assertThat(this.directory.tenants()).containsExactly(TenantId.of("acme"));
		}
	}
}
