package dev.switchboard.spring;

import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;

import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.Placement;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.jspecify.annotations.Nullable;

/**
 * Counts the tenant directory's changes and its catalog's failures in Micrometer:
 * {@code switchboard.directory.changes} tagged with the kind of change ({@code onboarded},
 * {@code moved}, {@code offboarded}, {@code drained}, {@code datasource-added},
 * {@code datasource-removed}), {@code switchboard.directory.refresh.failures} (a catalog read that
 * failed: the directory kept its tenants) and {@code switchboard.directory.entries.rejected} (a
 * catalog row that was malformed: the others applied). Every counter is registered when the
 * listener is built, so each reads 0 before its first event. Thread-safe.
 */
final class MicrometerDirectoryListener implements DirectoryListener {

	/** The kinds of change, as {@code switchboard.directory.changes} tags them. */
	enum Change {
		ONBOARDED, MOVED, OFFBOARDED, DRAINED, DATASOURCE_ADDED, DATASOURCE_REMOVED;

		String tag() {
			return name().toLowerCase(Locale.ROOT).replace('_', '-');
		}
	}

	private final Map<Change, Counter> changes = new EnumMap<>(Change.class);

	private final Counter refreshFailures;

	private final Counter rejected;

	MicrometerDirectoryListener(MeterRegistry registry) {
		for (Change change : Change.values()) {
			this.changes.put(change, Counter.builder("switchboard.directory.changes")
					.description("Changes of the tenant directory, by kind")
					.tag("kind", change.tag())
					.register(registry));
		}
		this.refreshFailures = Counter.builder("switchboard.directory.refresh.failures")
				.description("Reads of the tenant catalog that failed; the directory kept its tenants")
				.register(registry);
		this.rejected = Counter.builder("switchboard.directory.entries.rejected")
				.description("Tenant catalog entries rejected as malformed; the other entries applied")
				.register(registry);
	}

	@Override
	public void onboarded(TenantId tenant, Placement placement) {
		this.changes.get(Change.ONBOARDED).increment();
	}

	@Override
	public void moved(TenantId tenant, Placement from, Placement to) {
		this.changes.get(Change.MOVED).increment();
	}

	@Override
	public void offboarded(TenantId tenant, Placement from) {
		this.changes.get(Change.OFFBOARDED).increment();
	}

	@Override
	public void drained(TenantId tenant, Placement placement) {
		this.changes.get(Change.DRAINED).increment();
	}

	@Override
	public void dataSourceAdded(String dataSource) {
		this.changes.get(Change.DATASOURCE_ADDED).increment();
	}

	@Override
	public void dataSourceRemoved(String dataSource) {
		this.changes.get(Change.DATASOURCE_REMOVED).increment();
	}

	@Override
	public void refreshFailed(Throwable failure) {
		this.refreshFailures.increment();
	}

	@Override
	public void entryRejected(@Nullable String tenant, String problem) {
		this.rejected.increment();
	}
}
