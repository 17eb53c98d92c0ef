package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import dev.switchboard.api.DataError;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.Disposables;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;
import reactor.util.Logger;
import reactor.util.Loggers;
import reactor.util.retry.Retry;

/**
 * Keeps a {@link TenantDirectory} in step with its {@link TenantSource}: reads it every refresh
 * interval and on each change signal, one read at a time, and applies what differs from the
 * directory (see {@link TenantSource} for the rules). A read that fails changes nothing; a
 * malformed entry is rejected alone, named in a WARN line and to the directory's listener.
 */
final class DirectorySync {

	private static final Logger logger = Loggers.getLogger(DirectorySync.class);

	/** The first retry of a change stream that ended; doubled up to the refresh interval. */
	private static final Duration FIRST_RESUBSCRIBE = Duration.ofMillis(100);

	private final TenantDirectory directory;

	private final @Nullable TenantSource source;

	private final Duration refreshInterval;

	private final Disposable.Swap running = Disposables.swap();

	/** The first load, once started: a second {@code start()} waits for it too. */
	private @Nullable Mono<Void> first;

	/**
	 * Whether the last read, and the last change stream, failed: only the first failure of a run
	 * is a WARN line (a catalog down for a minute would log one per refresh), and the recovery an
	 * INFO line. Written by the one read or stream at a time.
	 */
	private volatile boolean loadFailing;

	private volatile boolean changesFailing;

	DirectorySync(TenantDirectory directory, @Nullable TenantSource source, Duration refreshInterval) {
		this.directory = directory;
		this.source = source;
		this.refreshInterval = refreshInterval;
	}

	Mono<Void> start() {
		if (this.source == null) {
			return Mono.empty();
		}
		return Mono.defer(() -> {
			Mono<Void> first;
			synchronized (this) {
				if (this.first != null) {
					return this.first;
				}
				first = refresh().cache();
				this.first = first;
			}
			Flux<Object> wakeUps = Flux.merge(
					Flux.interval(this.refreshInterval, this.refreshInterval, Schedulers.parallel()),
					changes());
			Disposable loop = first.onErrorComplete()
					.thenMany(wakeUps.onBackpressureLatest()
							.concatMap(wakeUp -> refresh().onErrorComplete(), 1))
					.subscribe();
			this.running.update(loop);
			return first;
		});
	}

	/** The source's change signals, resubscribed with a growing pause after each end or failure. */
	private Flux<Object> changes() {
		return Flux.<Object>defer(() -> this.source.changes().cast(Object.class))
				.doOnNext(signal -> {
					if (this.changesFailing) {
						this.changesFailing = false;
						logger.info("Switchboard: the tenant source's change signals are back");
					}
				})
				.doOnError(failure -> {
					String message = "Switchboard: the tenant source's change signals failed, resubscribing: " + failure;
					if (this.changesFailing) {
						logger.debug(message);
					}
					else {
						this.changesFailing = true;
						logger.warn(message + " (further failures in a row are logged at DEBUG)");
					}
				})
				.retryWhen(Retry.backoff(Long.MAX_VALUE, FIRST_RESUBSCRIBE).maxBackoff(this.refreshInterval)
						.transientErrors(true))
				.repeatWhen(ends -> ends.delayElements(this.refreshInterval));
	}

	Mono<Void> refresh() {
		if (this.source == null) {
			return Mono.empty();
		}
		return Mono.defer(this.source::load)
				.doOnNext(entries -> {
					apply(entries);
					if (this.loadFailing) {
						this.loadFailing = false;
						logger.info("Switchboard: the tenant source can be read again");
					}
				})
				.doOnError(failure -> {
					String message = "Switchboard: reading the tenant source failed, the directory keeps its tenants: "
							+ failure;
					if (this.loadFailing) {
						logger.debug(message);
					}
					else {
						this.loadFailing = true;
						logger.warn(message + " (further failures in a row are logged at DEBUG)");
					}
					this.directory.listener().refreshFailed(failure);
				})
				.then();
	}

	void dispose() {
		this.running.dispose();
	}

	/**
	 * Apply a whole catalog as one change, each entry alone, so that a bad one stops nothing else;
	 * the rejections are told after the new snapshot is out.
	 */
	private void apply(List<TenantSource.Entry> entries) {
		List<String[]> rejected = new ArrayList<>();
		this.directory.change(null, change -> {
			Set<TenantId> listed = new HashSet<>();
			for (TenantSource.Entry entry : entries) {
				if (entry == null) {
					rejected.add(new String[] { null, "the source gave a null entry" });
					continue;
				}
				try {
					applyEntry(change, entry, listed);
				}
				catch (DataError | DirectoryException | IllegalArgumentException failure) {
					rejected.add(new String[] { entry.tenant(), failure.getMessage() });
				}
			}
			for (Tenancy known : this.directory.snapshot().tenancies()) {
				Tenancy tenancy = change.get(known.tenant);
				if (tenancy != null && tenancy.origin == Tenancy.Origin.SOURCE && !tenancy.isTombstone()
						&& !listed.contains(known.tenant)) {
					change.offboard(known.tenant, Tenancy.Origin.SOURCE);
				}
			}
		}).subscribe(null, failure -> {
		});
		rejected.forEach(entry -> reject(entry[0], entry[1]));
	}

	private static void applyEntry(DirectoryChange change, TenantSource.Entry entry, Set<TenantId> listed) {
		TenantId tenant = TenantId.of(entry.tenant());
		if (!listed.add(tenant)) {
			throw new IllegalArgumentException("tenant '" + tenant + "' is listed more than once; the first entry applies");
		}
		String state = entry.state() == null ? "" : entry.state().trim().toLowerCase(Locale.ROOT);
		Tenancy now = change.get(tenant);
		boolean active = now != null && !now.isTombstone();
		switch (state) {
			case TenantSource.Entry.ACTIVE -> {
				Placement placement = Placement.on(entry.dataSource());
				if (!change.hasDataSource(placement.dataSource())) {
					throw new IllegalArgumentException("tenant '" + tenant + "' names datasource '"
							+ placement.dataSource() + "', which is not registered");
				}
				if (!active) {
					change.onboard(tenant, placement, Tenancy.Origin.SOURCE);
				}
				else if (!placement.equals(now.placement)) {
					// Moved, it keeps its origin: a configured tenant or one of the API's did not come
					// from the catalog, and one the catalog stops listing stays, moved or not.
					change.move(tenant, placement, null);
				}
			}
			case TenantSource.Entry.OFFBOARDED -> {
				if (active) {
					change.offboard(tenant, Tenancy.Origin.SOURCE);
				}
			}
			default -> throw new IllegalArgumentException("tenant '" + tenant + "' has state '" + entry.state()
					+ "'; expected '" + TenantSource.Entry.ACTIVE + "' or '" + TenantSource.Entry.OFFBOARDED + "'");
		}
	}

	private void reject(@Nullable String tenant, String problem) {
		logger.warn("Switchboard: tenant source entry " + (tenant == null ? "without a tenant" : "'" + tenant + "'")
				+ " rejected: " + problem);
		this.directory.listener().entryRejected(tenant, problem);
	}
}
