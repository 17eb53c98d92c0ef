package dev.switchboard.r2dbc;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
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
 * lock. The routing path reads only {@link #table}. A change copies the table's arrays and sets
 * what changed ({@link TenantTable#with}): a few array copies, not a rebuild from a map.
 */
final class DirectorySnapshot {

	/** Every tenant, tombstones included. */
	final TenantTable<Tenancy> table;

	/** By name, in the order they were added; unmodifiable. */
	final Map<String, DataSource> dataSources;

	/** Computed on first use: only tools ask. A race computes it twice, the same. */
	private @Nullable Set<TenantId> active;

	DirectorySnapshot(TenantTable<Tenancy> table, Map<String, DataSource> dataSources) {
		this.table = table;
		this.dataSources = Collections.unmodifiableMap(dataSources);
	}

	@Nullable Tenancy get(TenantId tenant) {
		return this.table.get(tenant);
	}

	/** The tenants that are not offboarded, in order. */
	Set<TenantId> active() {
		Set<TenantId> active = this.active;
		if (active == null) {
			TreeSet<TenantId> ids = new TreeSet<>();
			this.table.forEach((id, tenancy) -> {
				if (!tenancy.isTombstone()) {
					ids.add(id);
				}
			});
			active = Collections.unmodifiableSet(ids);
			this.active = active;
		}
		return active;
	}

	/** Every tenancy and tombstone, in no particular order. */
	List<Tenancy> tenancies() {
		List<Tenancy> all = new ArrayList<>(this.table.size());
		this.table.forEach((id, tenancy) -> all.add(tenancy));
		return all;
	}

	Collection<DataSource> dataSources() {
		return this.dataSources.values();
	}

	/** Whether a tenant that is not offboarded lives on the datasource named {@code name}. */
	boolean serves(String name) {
		boolean[] serves = new boolean[1];
		this.table.forEach((id, tenancy) -> {
			if (tenancy.placement != null && tenancy.placement.dataSource().equals(name)) {
				serves[0] = true;
			}
		});
		return serves[0];
	}

	/** This snapshot with other datasources. */
	DirectorySnapshot withDataSources(Map<String, DataSource> dataSources) {
		return new DirectorySnapshot(this.table, dataSources);
	}
}
