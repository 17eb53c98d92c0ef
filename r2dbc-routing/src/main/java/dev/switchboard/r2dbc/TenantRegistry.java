package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import dev.switchboard.api.TenantTable;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The {@link DataSourceRegistry} frozen at boot: an immutable map from tenant to datasource
 * (a {@link TenantTable}), read without locks.
 *
 * <pre class="code">
 * TenantRegistry registry = TenantRegistry.builder()
 *     .dataSource(pgMain)
 *     .dataSource(mariaMain)
 *     .tenant("acme", "pg-main")
 *     .tenant("globex", "maria-main")
 *     .build();
 * </pre>
 *
 * <p>Strict by default: an unknown tenant is an {@link DataError.Kind#UNKNOWN_TENANT} error. A
 * default tenant, used only when a pipeline carries no routing context, is opt-in. The registry
 * owns its datasources: {@link #disposeLater()} disposes each once.
 */
public final class TenantRegistry implements DataSourceRegistry, AsyncDisposable, Closeable {

	private final TenantTable<DataSource> tenants;

	private final List<DataSource> dataSources;

	private final Set<TenantId> tenantIds;

	private final @Nullable TenantId defaultTenant;

	private final Mono<Void> dispose;

	private volatile boolean disposed;

	private TenantRegistry(Builder builder, Map<TenantId, DataSource> tenants) {
		this.tenants = TenantTable.copyOf(tenants);
		this.dataSources = List.copyOf(builder.dataSources.values());
		this.tenantIds = Collections.unmodifiableSet(new TreeSet<>(tenants.keySet()));
		this.defaultTenant = builder.defaultTenant;
		this.dispose = disposeAll().cache();
	}

	/**
	 * Start building a registry.
	 * @return a new builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	@Override
	public DataSource obtainDataSource(TenantId tenant) {
		DataSource dataSource = this.tenants.get(tenant);
		if (dataSource == null) {
			throw DataError.unknownTenant(tenant);
		}
		return dataSource;
	}

	@Override
	public @Nullable DataSource getDataSource(TenantId tenant) {
		return this.tenants.get(tenant);
	}

	@Override
	public @Nullable TenantId defaultTenant() {
		return this.defaultTenant;
	}

	@Override
	public Set<TenantId> tenants() {
		return this.tenantIds;
	}

	@Override
	public Collection<DataSource> dataSources() {
		return this.dataSources;
	}

	/**
	 * Dispose every datasource that is {@link Disposable}, each once. A failure does not stop the
	 * others; the first is emitted with the later ones added as suppressed.
	 * @return a {@code Mono} that completes when all are disposed; idempotent
	 */
	public Mono<Void> disposeLater() {
		this.disposed = true;
		return this.dispose;
	}

	private Mono<Void> disposeAll() {
		return Disposal.each(this.dataSources, Disposal::of);
	}

	/**
	 * Dispose every datasource, waiting for it.
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
		return "TenantRegistry[tenants=" + this.tenantIds.size() + ", dataSources=" + this.dataSources.size() + "]";
	}

	/**
	 * Builds a {@link TenantRegistry}. Not thread-safe.
	 */
	public static final class Builder {

		private final Map<String, DataSource> dataSources = new LinkedHashMap<>();

		private final Map<TenantId, String> tenants = new LinkedHashMap<>();

		private @Nullable TenantId defaultTenant;

		private Builder() {
		}

		/**
		 * Register a datasource under its {@link DataSource#name()}.
		 * @param dataSource the datasource
		 * @return this builder
		 * @throws IllegalArgumentException if another datasource has the same name
		 */
		public Builder dataSource(DataSource dataSource) {
			if (dataSource == null) {
				throw new IllegalArgumentException("dataSource must not be null");
			}
			DataSource previous = this.dataSources.putIfAbsent(dataSource.name(), dataSource);
			if (previous != null && previous != dataSource) {
				throw new IllegalArgumentException("datasource name '" + dataSource.name() + "' is registered twice");
			}
			return this;
		}

		/**
		 * Route {@code tenant} to the datasource named {@code dataSource}.
		 * @param tenant the tenant id
		 * @param dataSource the name of a datasource registered before {@link #build()}
		 * @return this builder
		 * @throws DataError of kind {@link DataError.Kind#INVALID_TENANT_ID} if the id is malformed
		 * @throws IllegalArgumentException if the tenant is already mapped
		 */
		public Builder tenant(String tenant, String dataSource) {
			TenantId id = TenantId.of(tenant);
			if (dataSource == null || dataSource.isBlank()) {
				throw new IllegalArgumentException("datasource of tenant '" + tenant + "' must not be blank");
			}
			String previous = this.tenants.putIfAbsent(id, dataSource);
			if (previous != null) {
				throw new IllegalArgumentException("tenant '" + tenant + "' is mapped twice, to '" + previous
						+ "' and to '" + dataSource + "'");
			}
			return this;
		}

		/**
		 * Use {@code tenant} for pipelines without a routing context. Off by default: such
		 * pipelines fail with {@link DataError.Kind#MISSING_CONTEXT}.
		 * @param tenant a tenant mapped with {@link #tenant(String, String)}
		 * @return this builder
		 */
		public Builder defaultTenant(String tenant) {
			this.defaultTenant = TenantId.of(tenant);
			return this;
		}

		/**
		 * Freeze the registry.
		 * @return the registry
		 * @throws IllegalStateException if a tenant names an unregistered datasource, or the default
		 * tenant is not mapped
		 */
		public TenantRegistry build() {
			Map<TenantId, DataSource> resolved = new LinkedHashMap<>();
			List<String> problems = new ArrayList<>();
			this.tenants.forEach((tenant, name) -> {
				DataSource dataSource = this.dataSources.get(name);
				if (dataSource == null) {
					problems.add("tenant '" + tenant + "' names datasource '" + name + "', which is not registered "
							+ "(registered: " + this.dataSources.keySet() + ")");
				}
				else {
					resolved.put(tenant, dataSource);
				}
			});
			if (this.defaultTenant != null && !this.tenants.containsKey(this.defaultTenant)) {
				problems.add("default tenant '" + this.defaultTenant + "' is not a mapped tenant");
			}
			if (!problems.isEmpty()) {
				throw new IllegalStateException(String.join("; ", problems));
			}
			return new TenantRegistry(this, resolved);
		}
	}
}
