package dev.switchboard.r2dbc;

import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;

/**
 * Told of every change a {@link TenantDirectory} makes and of every catalog refresh that failed,
 * so that an application can count and log them (the Spring Boot starter does both). Called on
 * the thread that made the change, after the new snapshot is published; must not block. A call
 * that throws is logged at WARN: the change stands and its operation completes. Every method does
 * nothing by default.
 */
public interface DirectoryListener {

	/** A listener that does nothing. */
	DirectoryListener NONE = new DirectoryListener() {
	};

	/**
	 * A tenant became routable.
	 * @param tenant the tenant
	 * @param placement where it lives
	 */
	default void onboarded(TenantId tenant, Placement placement) {
	}

	/**
	 * A tenant's new work goes to another placement; work already running finishes on the old one.
	 * @param tenant the tenant
	 * @param from the old placement
	 * @param to the new placement
	 */
	default void moved(TenantId tenant, Placement from, Placement to) {
	}

	/**
	 * A tenant was offboarded: new work for it is refused; work already running finishes.
	 * @param tenant the tenant
	 * @param from the placement it left
	 */
	default void offboarded(TenantId tenant, Placement from) {
	}

	/**
	 * The last connection of a tenant on a placement it left (by a move or an offboard) is back.
	 * @param tenant the tenant
	 * @param placement the placement it left
	 */
	default void drained(TenantId tenant, Placement placement) {
	}

	/**
	 * A datasource was added.
	 * @param dataSource its name
	 */
	default void dataSourceAdded(String dataSource) {
	}

	/**
	 * A datasource was removed; its pools are disposed once its last tenant's work is done.
	 * @param dataSource its name
	 */
	default void dataSourceRemoved(String dataSource) {
	}

	/**
	 * A refresh from the directory's {@link TenantSource} failed: the directory keeps what it had.
	 * @param failure why
	 */
	default void refreshFailed(Throwable failure) {
	}

	/**
	 * An entry of the directory's {@link TenantSource} was rejected alone; the others applied.
	 * @param tenant the entry's tenant as the source gave it, or {@code null}
	 * @param problem why it was rejected
	 */
	default void entryRejected(@Nullable String tenant, String problem) {
	}
}
