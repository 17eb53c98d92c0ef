package dev.switchboard.r2dbc;

import java.util.List;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Where the tenants of a {@link TenantDirectory} come from, besides its builder and its
 * operations: a catalog the directory reads again every refresh interval, and whenever
 * {@link #changes()} signals, and keeps itself in step with.
 *
 * <p>The catalog is authoritative for the tenants it lists: an {@linkplain Entry#ACTIVE active}
 * entry is onboarded, or moved if its datasource changed; an {@linkplain Entry#OFFBOARDED
 * offboarded} one is offboarded; a tenant that came from the catalog and is no longer listed is
 * offboarded. A load that fails leaves the directory as it was; an entry that is malformed (a bad
 * tenant id, an unknown datasource, an unknown state, a tenant listed twice) is rejected alone and
 * the others apply. {@link TableTenantSource} reads a table.
 */
public interface TenantSource {

	/**
	 * Read the whole catalog.
	 * @return a {@code Mono} of every entry, or an error if the catalog cannot be read
	 */
	Mono<List<Entry>> load();

	/**
	 * Signal whenever the catalog changed, for a directory to load it before the next refresh
	 * (PostgreSQL's {@code LISTEN/NOTIFY}). Subscribed once; resubscribed after it ends.
	 * @return wake-ups; by default none
	 */
	default Flux<?> changes() {
		return Flux.never();
	}

	/**
	 * One row of the catalog, as the catalog holds it: the directory checks it.
	 * @param tenant the tenant id
	 * @param dataSource the name of the datasource the tenant lives on
	 * @param state {@link #ACTIVE} or {@link #OFFBOARDED}, in any case
	 */
	record Entry(@Nullable String tenant, @Nullable String dataSource, @Nullable String state) {

		/** The state of a routable tenant. */
		public static final String ACTIVE = "active";

		/** The state of a tenant that was offboarded. */
		public static final String OFFBOARDED = "offboarded";
	}
}
