package dev.switchboard.r2dbc;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import dev.switchboard.api.TenantTable;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link TenantDirectory} holds at one moment: never changed once published, replaced as a
 * whole on every change (copy-on-write), so that a lookup reads one consistent table without a
 * lock. The routing path reads only {@link #table}.
 */
final class DirectorySnapshot {

	static final DirectorySnapshot EMPTY = new DirectorySnapshot(Map.of(), Map.of());

	/** Every tenant, tombstones included, for the routing path. */
	final TenantTable<Tenancy> table;

	/** The same entries, to build the next snapshot from. */
	final Map<TenantId, Tenancy> tenancies;

	/** By name, in the order they were added. */
	final Map<String, DataSource> dataSources;

	/** Computed on first use: only tools ask. A race computes it twice, the same. */
	private @Nullable Set<TenantId> active;

	DirectorySnapshot(Map<TenantId, Tenancy> tenancies, Map<String, DataSource> dataSources) {
		this.tenancies = Collections.unmodifiableMap(tenancies);
		this.dataSources = Collections.unmodifiableMap(dataSources);
		this.table = TenantTable.copyOf(tenancies);
	}

	@Nullable Tenancy get(TenantId tenant) {
		return this.table.get(tenant);
	}

	Set<TenantId> active() {
		Set<TenantId> active = this.active;
		if (active == null) {
			TreeSet<TenantId> ids = new TreeSet<>();
			this.tenancies.forEach((id, tenancy) -> {
				if (!tenancy.isTombstone()) {
					ids.add(id);
				}
			});
			active = Collections.unmodifiableSet(ids);
			this.active = active;
		}
		return active;
	}

	Collection<DataSource> dataSources() {
		return this.dataSources.values();
	}

	/** Whether an active tenant lives on the datasource named {@code name}. */
	boolean serves(String name) {
		for (Tenancy tenancy : this.tenancies.values()) {
			if (tenancy.placement != null && tenancy.placement.dataSource().equals(name)) {
				return true;
			}
		}
		return false;
	}

	/** A mutable copy of the tenancies, to change and publish. */
	Map<TenantId, Tenancy> copyTenancies() {
		return new LinkedHashMap<>(this.tenancies);
	}

	/** A mutable copy of the datasources, to change and publish. */
	Map<String, DataSource> copyDataSources() {
		return new LinkedHashMap<>(this.dataSources);
	}
}
