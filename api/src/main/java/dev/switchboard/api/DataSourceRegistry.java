package dev.switchboard.api;

import java.util.Collection;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * The map from tenant to {@link DataSource}, read without locks on every statement: frozen at boot
 * ({@code TenantRegistry}), or changed at runtime by swapping immutable snapshots
 * ({@code TenantDirectory}), so that a lookup never sees a half-built map.
 *
 * <p>Several tenants may share one datasource. Implementations are thread-safe.
 */
public interface DataSourceRegistry {

	/**
	 * Return the datasource of {@code tenant}.
	 * @param tenant the tenant
	 * @return the tenant's datasource
	 * @throws DataError of kind {@link DataError.Kind#UNKNOWN_TENANT} naming the tenant, or
	 * {@link DataError.Kind#TENANT_OFFBOARDED} for a tenant that was offboarded
	 */
	DataSource obtainDataSource(TenantId tenant);

	/**
	 * Return the datasource of {@code tenant}, if it is registered.
	 * @param tenant the tenant
	 * @return the tenant's datasource, or {@code null} if the tenant is unknown or offboarded
	 */
	@Nullable DataSource getDataSource(TenantId tenant);

	/**
	 * Return the tenant used when a pipeline carries no {@link RoutingContext}.
	 * @return the default tenant, or {@code null} when the registry is strict (the default)
	 */
	@Nullable TenantId defaultTenant();

	/**
	 * Return every registered tenant, for tools such as migrations and health checks.
	 * @return an immutable set, in a stable order; of a registry that changes, as it is now
	 */
	Set<TenantId> tenants();

	/**
	 * Return every distinct datasource, each once however many tenants share it.
	 * @return an immutable collection, in registration order
	 */
	Collection<DataSource> dataSources();
}
