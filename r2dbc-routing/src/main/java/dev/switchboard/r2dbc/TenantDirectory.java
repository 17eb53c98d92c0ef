package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The tenants and datasources a {@link RoutingConnectionFactory} routes through, changed at
 * runtime: tenants are onboarded, moved and offboarded, datasources added and removed, without a
 * restart, by its operations or by a {@link TenantSource} it keeps in step with.
 *
 * <pre class="code">
 * TenantDirectory directory = TenantDirectory.builder()
 *     .dataSource(pgMain)
 *     .dataSource(mariaMain)
 *     .tenant("acme", "pg-main")
 *     .build();
 * directory.onboard(TenantId.of("globex"), Placement.on("maria-main")).block();
 * </pre>
 *
 * <p>Lookups take no lock: each reads the current {@link DirectorySnapshot}, an immutable table
 * replaced as a whole on every change, so a lookup never sees a half-built one. Changes are
 * serialized among themselves. Each operation is a {@code Mono} that does nothing until
 * subscribed and completes when it has taken effect:
 * <ul>
 * <li>{@link #onboard}: the tenant is routable; a tenant registered already is refused, never
 * overwritten ({@link DirectoryException.Reason#TENANT_EXISTS}).</li>
 * <li>{@link #move}: new work goes to the new placement at once; the {@code Mono} completes when
 * the work that was running on the old one (a transaction, an open connection) has finished
 * there.</li>
 * <li>{@link #offboard}: new work for the tenant fails with
 * {@link DataError.Kind#TENANT_OFFBOARDED} (not {@link DataError.Kind#UNKNOWN_TENANT}: it existed);
 * the {@code Mono} completes when its last connection is back.</li>
 * <li>{@link #addDataSource} and {@link #removeDataSource}: a datasource that still serves a
 * tenant cannot be removed; a removed one has its pools disposed, once, when the work of the
 * tenants that left it has finished.</li>
 * </ul>
 * A connection counts for its tenant from the routing decision until its release starts; nothing
 * runs on it after that. A caller that cannot wait for a leaked connection puts a timeout on the
 * {@code Mono}: the change itself has taken effect.
 *
 * <p>The directory owns its datasources: {@link #disposeLater()} stops the sync and disposes each,
 * once. Thread-safe.
 */
public final class TenantDirectory implements DataSourceRegistry, AsyncDisposable, Closeable {

	private volatile DirectorySnapshot snapshot;

	private final Object changes = new Object();

	private final @Nullable TenantId defaultTenant;

	private final DirectoryListener listener;

	private final DirectorySync sync;

	/** Tenancies retired and not drained yet, for the removal of their datasource to wait for. */
	private final Set<Tenancy> retiring = ConcurrentHashMap.newKeySet();

	/** A frozen registry this directory was made over, disposed with it. */
	private final @Nullable DataSourceRegistry over;

	private final Mono<Void> dispose;

	private volatile boolean disposed;

	TenantDirectory(DirectorySnapshot initial, @Nullable TenantId defaultTenant, DirectoryListener listener,
			@Nullable TenantSource source, Duration refreshInterval, @Nullable DataSourceRegistry over) {
		this.snapshot = initial;
		this.defaultTenant = defaultTenant;
		this.listener = listener;
		this.over = over;
		this.sync = new DirectorySync(this, source, refreshInterval);
		this.dispose = Mono.defer(this::disposeAll).cache();
	}

	/**
	 * Start building a directory.
	 * @return a new builder
	 */
	public static TenantDirectoryBuilder builder() {
		return new TenantDirectoryBuilder();
	}

	/**
	 * The directory of a registry: a {@link TenantRegistry}'s own; for another implementation, one
	 * that starts with its tenants and datasources as they are now, and whose disposal disposes
	 * the registry. How a {@link RoutingConnectionFactory} routes through any registry.
	 * @param registry the registry
	 * @return a directory that starts with the registry's tenants
	 */
	public static TenantDirectory over(DataSourceRegistry registry) {
		if (registry instanceof TenantDirectory directory) {
			return directory;
		}
		if (registry instanceof TenantRegistry frozen) {
			return frozen.directory();
		}
		TenantDirectoryBuilder builder = builder();
		registry.dataSources().forEach(builder::dataSource);
		for (TenantId tenant : registry.tenants()) {
			builder.tenant(tenant.value(), registry.obtainDataSource(tenant).name());
		}
		TenantId defaultTenant = registry.defaultTenant();
		if (defaultTenant != null) {
			builder.defaultTenant(defaultTenant.value());
		}
		return builder.build(registry);
	}

	// ---- lookups: lock-free, on the current snapshot

	/** The routing path's lookup: the tenant's tenancy, a tombstone, or {@code null}. */
	@Nullable Tenancy tenancy(TenantId tenant) {
		return this.snapshot.get(tenant);
	}

	@Override
	public DataSource obtainDataSource(TenantId tenant) {
		Tenancy tenancy = this.snapshot.get(tenant);
		if (tenancy == null) {
			throw DataError.unknownTenant(tenant);
		}
		if (tenancy.isTombstone()) {
			throw DataError.tenantOffboarded(tenant);
		}
		return tenancy.dataSource;
	}

	@Override
	public @Nullable DataSource getDataSource(TenantId tenant) {
		Tenancy tenancy = this.snapshot.get(tenant);
		return tenancy != null ? tenancy.dataSource : null;
	}

	/**
	 * Return where {@code tenant} lives.
	 * @param tenant the tenant
	 * @return its placement, or {@code null} if it is unknown or offboarded
	 */
	public @Nullable Placement placement(TenantId tenant) {
		Tenancy tenancy = this.snapshot.get(tenant);
		return tenancy != null ? tenancy.placement : null;
	}

	@Override
	public @Nullable TenantId defaultTenant() {
		return this.defaultTenant;
	}

	@Override
	public Set<TenantId> tenants() {
		return this.snapshot.active();
	}

	@Override
	public Collection<DataSource> dataSources() {
		return this.snapshot.dataSources();
	}

	/**
	 * Return every tenant the directory knows, offboarded ones included, with its placement, its
	 * state and the connections it holds now: for admin pages.
	 * @return a new list, ordered by tenant
	 */
	public List<DirectoryEntry> entries() {
		List<DirectoryEntry> entries = new ArrayList<>();
		this.snapshot.tenancies().forEach(tenancy -> entries.add(DirectoryEntry.of(tenancy, false)));
		this.retiring.forEach(tenancy -> entries.add(DirectoryEntry.of(tenancy, true)));
		entries.sort(DirectoryEntry.ORDER);
		return entries;
	}

	// ---- operations: serialized among themselves, each published as a new snapshot

	/**
	 * Make {@code tenant} routable on {@code placement}. An offboarded tenant may be onboarded again.
	 * @param tenant the tenant
	 * @param placement where it lives
	 * @return a {@code Mono} that completes once the tenant is routable, or fails with a
	 * {@link DirectoryException} ({@code TENANT_EXISTS}, {@code INVALID_PLACEMENT}) and changes nothing
	 */
	public Mono<Void> onboard(TenantId tenant, Placement placement) {
		return Mono.defer(() -> change(require(tenant), change -> change.onboard(tenant, require(placement),
				Tenancy.Origin.API)));
	}

	/**
	 * {@link #onboard(TenantId, Placement)} for ids and names as strings, such as an admin request
	 * gives; a malformed id fails with {@link DataError.Kind#INVALID_TENANT_ID}.
	 * @param tenant the tenant id
	 * @param dataSource the datasource's name
	 * @return see {@link #onboard(TenantId, Placement)}
	 */
	public Mono<Void> onboard(String tenant, String dataSource) {
		return Mono.defer(() -> onboard(TenantId.of(tenant), Placement.on(dataSource)));
	}

	/**
	 * Send {@code tenant}'s new work to {@code placement}; work already running finishes where it
	 * started.
	 * @param tenant the tenant
	 * @param placement its new placement; the current one completes at once
	 * @return a {@code Mono} that completes when the old placement (and any earlier one still
	 * draining) has drained, or fails with a {@link DirectoryException} ({@code UNKNOWN_TENANT},
	 * {@code INVALID_PLACEMENT}) and changes nothing
	 */
	public Mono<Void> move(TenantId tenant, Placement placement) {
		return Mono.defer(() -> change(require(tenant), change -> change.move(tenant, require(placement), null)));
	}

	/**
	 * Refuse new work for {@code tenant} with {@link DataError.Kind#TENANT_OFFBOARDED}, and let its
	 * running work finish.
	 * @param tenant the tenant
	 * @return a {@code Mono} that completes when its last connection is back, or fails with a
	 * {@link DirectoryException} ({@code UNKNOWN_TENANT}) and changes nothing
	 */
	public Mono<Void> offboard(TenantId tenant) {
		return Mono.defer(() -> change(require(tenant), change -> change.offboard(tenant, null)));
	}

	/**
	 * Register a datasource, which the directory then owns.
	 * @param dataSource the datasource, under its {@link DataSource#name()}
	 * @return a {@code Mono} that completes once tenants can be placed on it, or fails with
	 * {@link DirectoryException.Reason#DATASOURCE_EXISTS}
	 */
	public Mono<Void> addDataSource(DataSource dataSource) {
		return Mono.fromRunnable(() -> {
			if (dataSource == null) {
				throw new DirectoryException(DirectoryException.Reason.INVALID_PLACEMENT, null,
						"a datasource to add must not be null");
			}
			synchronized (this.changes) {
				requireOpen(null);
				DirectorySnapshot current = this.snapshot;
				if (current.dataSources.containsKey(dataSource.name())) {
					throw new DirectoryException(DirectoryException.Reason.DATASOURCE_EXISTS, null,
							"datasource '" + dataSource.name() + "' is registered already");
				}
				Map<String, DataSource> dataSources = new LinkedHashMap<>(current.dataSources);
				dataSources.put(dataSource.name(), dataSource);
				this.snapshot = current.withDataSources(dataSources);
			}
			DirectoryChange.tell(this.listener, listener -> listener.dataSourceAdded(dataSource.name()));
		});
	}

	/**
	 * Remove the datasource named {@code name}, which no tenant may live on any more.
	 * @param name the datasource's name
	 * @return a {@code Mono} that completes when the work of the tenants that left it has finished
	 * and its pools are disposed, or fails with a {@link DirectoryException}
	 * ({@code UNKNOWN_DATASOURCE}, {@code DATASOURCE_IN_USE}) and changes nothing
	 */
	public Mono<Void> removeDataSource(String name) {
		return Mono.defer(() -> {
			DataSource removed;
			List<Mono<Void>> leaving = new ArrayList<>();
			synchronized (this.changes) {
				requireOpen(null);
				DirectorySnapshot current = this.snapshot;
				removed = current.dataSources.get(name);
				if (removed == null) {
					throw new DirectoryException(DirectoryException.Reason.UNKNOWN_DATASOURCE, null,
							"datasource '" + name + "' is not registered (registered: " + current.dataSources.keySet() + ")");
				}
				if (current.serves(name)) {
					throw new DirectoryException(DirectoryException.Reason.DATASOURCE_IN_USE, null, "datasource '"
							+ name + "' still serves tenants: move or offboard them first");
				}
				Map<String, DataSource> dataSources = new LinkedHashMap<>(current.dataSources);
				dataSources.remove(name);
				this.snapshot = current.withDataSources(dataSources);
				this.retiring.forEach(tenancy -> {
					if (tenancy.dataSource == removed) {
						leaving.add(tenancy.drained());
					}
				});
			}
			DirectoryChange.tell(this.listener, listener -> listener.dataSourceRemoved(name));
			// Disposed whether or not the caller still waits: the removal has happened.
			Mono<Void> done = Mono.when(leaving).then(Disposal.of(removed)).cache();
			done.subscribe(null, failure -> {
			});
			return done;
		});
	}

	/**
	 * Read the directory's {@link TenantSource} now and apply what changed, as every refresh does.
	 * @return a {@code Mono} that completes once applied, or fails (and changes nothing) if the
	 * source cannot be read; empty at once without a source
	 */
	public Mono<Void> refresh() {
		return this.sync.refresh();
	}

	/**
	 * Load the {@link TenantSource} once, then keep in step with it: every refresh interval and on
	 * each of its {@linkplain TenantSource#changes() changes}, until disposed. Does nothing without
	 * a source; a second call starts nothing more and waits for the same first load.
	 * @return a {@code Mono} that completes after the first load; a first load that fails is
	 * emitted, and the directory keeps trying
	 */
	public Mono<Void> start() {
		return this.sync.start();
	}

	// ---- the changes themselves, under the lock; for the operations and the source's sync

	/**
	 * Apply {@code edits} to a copy of the current snapshot and publish it as one; then tell the
	 * listener, and drain the tenancies it no longer holds. An edit that throws leaves the snapshot
	 * as it was, unless {@code edits} catches it (a catalog's bad entry).
	 * @return a {@code Mono} that completes when the retired tenancies, and the earlier placements
	 * of their tenants still draining, have drained; they drain whether or not it is subscribed
	 */
	Mono<Void> change(@Nullable TenantId tenant, Consumer<DirectoryChange> edits) {
		DirectoryChange change;
		List<Mono<Void>> drains = new ArrayList<>();
		synchronized (this.changes) {
			requireOpen(tenant);
			change = new DirectoryChange(this.snapshot);
			edits.accept(change);
			this.snapshot = change.result();
			// A tenant's work is done when its earlier placements, left by a move and still draining, are too.
			if (!change.retired().isEmpty() && !this.retiring.isEmpty()) {
				Set<TenantId> leaving = new HashSet<>();
				change.retired().forEach(old -> leaving.add(old.tenant));
				this.retiring.forEach(earlier -> {
					if (leaving.contains(earlier.tenant)) {
						drains.add(earlier.drained());
					}
				});
			}
			// Retired under the lock: a removal of their datasource, which looks for them under it,
			// must find each with its drain begun (a listener told of the move may remove it at once).
			for (Tenancy old : change.retired()) {
				drains.add(old.retire());
				this.retiring.add(old);
			}
		}
		change.tell(this.listener);
		for (Tenancy old : change.retired()) {
			old.drained().subscribe(null, null, () -> {
				this.retiring.remove(old);
				DirectoryChange.tell(this.listener, listener -> listener.drained(old.tenant, old.placement));
			});
		}
		return drains.isEmpty() ? Mono.empty() : Mono.when(drains);
	}

	/** The current snapshot, for the source's sync to compare a catalog with. */
	DirectorySnapshot snapshot() {
		return this.snapshot;
	}

	DirectoryListener listener() {
		return this.listener;
	}

	private static TenantId require(@Nullable TenantId tenant) {
		if (tenant == null) {
			throw DataError.invalidTenantId(null, "a tenant id must not be null");
		}
		return tenant;
	}

	private static Placement require(@Nullable Placement placement) {
		if (placement == null) {
			throw new DirectoryException(DirectoryException.Reason.INVALID_PLACEMENT, null,
					"a placement must not be null");
		}
		return placement;
	}

	private void requireOpen(@Nullable TenantId tenant) {
		if (this.disposed) {
			throw new DirectoryException(DirectoryException.Reason.DISPOSED, tenant != null ? tenant.value() : null,
					"the tenant directory is disposed");
		}
	}

	// ---- disposal

	/**
	 * Stop keeping in step with the source, and dispose every datasource (and the registry this
	 * directory was made over), each once. A failure does not stop the others.
	 * @return a {@code Mono} that completes when all are disposed; idempotent
	 */
	@Override
	public Mono<Void> disposeLater() {
		synchronized (this.changes) {
			this.disposed = true;
		}
		return this.dispose;
	}

	private Mono<Void> disposeAll() {
		this.sync.dispose();
		List<Object> owned = new ArrayList<>(this.snapshot.dataSources());
		if (this.over != null) {
			owned.add(this.over);
		}
		return Disposal.each(owned, Disposal::of);
	}

	/**
	 * Dispose, waiting for it.
	 */
	@Override
	public void dispose() {
		disposeLater().block();
	}

	@Override
	public boolean isDisposed() {
		return this.disposed;
	}

	/**
	 * Same as {@link #dispose()}.
	 */
	@Override
	public void close() {
		dispose();
	}

	@Override
	public String toString() {
		DirectorySnapshot current = this.snapshot;
		return "TenantDirectory[tenants=" + current.active().size() + ", dataSources=" + current.dataSources.size()
				+ "]";
	}
}
