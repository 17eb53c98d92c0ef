package dev.switchboard.r2dbc;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.util.Logger;
import reactor.util.Loggers;

/**
 * One change of a {@link TenantDirectory}, of one tenant or of a whole catalog: edits applied to a
 * copy of the current snapshot, published as one new snapshot. An edit that is refused throws a
 * {@link DirectoryException} and leaves the change as it was, so that a catalog's bad entry stops
 * nothing else. Made and used under the directory's lock; not thread-safe.
 */
final class DirectoryChange {

	private static final Logger logger = Loggers.getLogger(DirectoryChange.class);

	private final DirectorySnapshot base;

	/** What this change sets, over the base's table. */
	private final Map<TenantId, Tenancy> edits = new LinkedHashMap<>();

	/** The listener calls, in order, made once the snapshot is published. */
	private final List<Event> events = new ArrayList<>();

	/** The tenancies the new snapshot no longer holds: drained once it is published. */
	private final List<Tenancy> retired = new ArrayList<>();

	DirectoryChange(DirectorySnapshot base) {
		this.base = base;
	}

	/** The tenant as this change has it so far: a tenancy, a tombstone, or {@code null}. */
	@Nullable Tenancy get(TenantId tenant) {
		Tenancy edited = this.edits.get(tenant);
		return edited != null ? edited : this.base.get(tenant);
	}

	boolean hasDataSource(String name) {
		return this.base.dataSources.containsKey(name);
	}

	void onboard(TenantId tenant, Placement placement, Tenancy.Origin origin) {
		Tenancy existing = get(tenant);
		if (existing != null && !existing.isTombstone()) {
			throw new DirectoryException(DirectoryException.Reason.TENANT_EXISTS, tenant.value(), "tenant '"
					+ tenant + "' is onboarded already, on '" + existing.placement + "'; move it instead");
		}
		put(tenant, Tenancy.of(tenant, placement, dataSource(tenant, placement), origin));
		this.events.add(listener -> listener.onboarded(tenant, placement));
	}

	/** Move; {@code origin} is the new tenancy's, or the old one's when {@code null}. Nothing if already there. */
	void move(TenantId tenant, Placement placement, Tenancy.@Nullable Origin origin) {
		Tenancy old = requireActive(tenant);
		if (old.placement.equals(placement)) {
			return;
		}
		put(tenant, Tenancy.of(tenant, placement, dataSource(tenant, placement), origin != null ? origin : old.origin));
		this.retired.add(old);
		this.events.add(listener -> listener.moved(tenant, old.placement, placement));
	}

	void offboard(TenantId tenant, Tenancy.@Nullable Origin origin) {
		Tenancy old = requireActive(tenant);
		put(tenant, Tenancy.tombstone(tenant, origin != null ? origin : old.origin));
		this.retired.add(old);
		this.events.add(listener -> listener.offboarded(tenant, old.placement));
	}

	/** The snapshot to publish: the base itself when nothing changed. */
	DirectorySnapshot result() {
		return this.edits.isEmpty() ? this.base
				: new DirectorySnapshot(this.base.table.with(this.edits), this.base.dataSources);
	}

	List<Tenancy> retired() {
		return this.retired;
	}

	void tell(DirectoryListener listener) {
		this.events.forEach(event -> tell(listener, event));
	}

	/**
	 * Tell {@code listener} of a change that has taken effect: one that throws is logged, and the
	 * change, its drains and the other calls go on.
	 */
	static void tell(DirectoryListener listener, Event event) {
		try {
			event.tell(listener);
		}
		catch (RuntimeException failure) {
			logger.warn("Switchboard: the tenant directory's listener " + listener + " failed: " + failure, failure);
		}
	}

	private void put(TenantId tenant, Tenancy tenancy) {
		this.edits.put(tenant, tenancy);
	}

	private Tenancy requireActive(TenantId tenant) {
		Tenancy existing = get(tenant);
		if (existing == null || existing.isTombstone()) {
			throw new DirectoryException(DirectoryException.Reason.UNKNOWN_TENANT, tenant.value(),
					"tenant '" + tenant + "' is " + (existing == null ? "not registered" : "offboarded already"));
		}
		return existing;
	}

	private DataSource dataSource(TenantId tenant, Placement placement) {
		DataSource dataSource = this.base.dataSources.get(placement.dataSource());
		if (dataSource == null) {
			throw new DirectoryException(DirectoryException.Reason.INVALID_PLACEMENT, tenant.value(),
					"tenant '" + tenant + "' is placed on datasource '" + placement.dataSource()
							+ "', which is not registered (registered: " + this.base.dataSources.keySet() + ")");
		}
		return dataSource;
	}

	/** A listener call, deferred until the snapshot is published. */
	@FunctionalInterface
	interface Event {

		void tell(DirectoryListener listener);
	}
}
