package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.util.Collection;
import java.util.Set;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The tenants and datasources of an application that configures them once, at boot: a
 * {@link TenantDirectory} without its operations, read without locks.
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
 * default tenant, used only when a pipeline carries no routing context, is opt-in. A
 * {@link RoutingConnectionFactory} over a registry routes through its directory
 * ({@link RoutingConnectionFactory#directory()}), where tenants can still be onboarded at
 * runtime; this object shows what that directory holds. The registry owns its datasources:
 * {@link #disposeLater()} disposes each once.
 */
public final class TenantRegistry implements DataSourceRegistry, AsyncDisposable, Closeable {

	private final TenantDirectory directory;

	private TenantRegistry(TenantDirectory directory) {
		this.directory = directory;
	}

	/**
	 * Start building a registry.
	 * @return a new builder
	 */
	public static Builder builder() {
		return new Builder();
	}

	/** The directory that holds this registry's tenants, for the routing factory. */
	TenantDirectory directory() {
		return this.directory;
	}

	@Override
	public DataSource obtainDataSource(TenantId tenant) {
		return this.directory.obtainDataSource(tenant);
	}

	@Override
	public @Nullable DataSource getDataSource(TenantId tenant) {
		return this.directory.getDataSource(tenant);
	}

	@Override
	public @Nullable TenantId defaultTenant() {
		return this.directory.defaultTenant();
	}

	@Override
	public Set<TenantId> tenants() {
		return this.directory.tenants();
	}

	@Override
	public Collection<DataSource> dataSources() {
		return this.directory.dataSources();
	}

	/**
	 * Dispose every datasource that is {@link reactor.core.Disposable}, each once. A failure does
	 * not stop the others; the first is emitted with the later ones added as suppressed.
	 * @return a {@code Mono} that completes when all are disposed; idempotent
	 */
	@Override
	public Mono<Void> disposeLater() {
		return this.directory.disposeLater();
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
		return this.directory.isDisposed();
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
		return "TenantRegistry[tenants=" + tenants().size() + ", dataSources=" + dataSources().size() + "]";
	}

	/**
	 * Builds a {@link TenantRegistry}: a {@link TenantDirectoryBuilder} without a source or a
	 * listener. Not thread-safe.
	 */
	public static final class Builder {

		private final TenantDirectoryBuilder directory = TenantDirectory.builder();

		private Builder() {
		}

		/**
		 * Register a datasource under its {@link DataSource#name()}.
		 * @param dataSource the datasource
		 * @return this builder
		 * @throws IllegalArgumentException if another datasource has the same name
		 */
		public Builder dataSource(DataSource dataSource) {
			this.directory.dataSource(dataSource);
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
			this.directory.tenant(tenant, dataSource);
			return this;
		}

		/**
		 * Use {@code tenant} for pipelines without a routing context. Off by default: such
		 * pipelines fail with {@link DataError.Kind#MISSING_CONTEXT}.
		 * @param tenant a tenant mapped with {@link #tenant(String, String)}
		 * @return this builder
		 */
		public Builder defaultTenant(String tenant) {
			this.directory.defaultTenant(tenant);
			return this;
		}

		/**
		 * Freeze the registry.
		 * @return the registry
		 * @throws IllegalStateException if a tenant names an unregistered datasource, or the default
		 * tenant is not mapped
		 */
		public TenantRegistry build() {
			return new TenantRegistry(this.directory.build());
		}
	}
}
