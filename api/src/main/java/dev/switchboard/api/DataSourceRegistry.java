package dev.switchboard.api;

import java.util.Collection;
import java.util.Set;

import org.jspecify.annotations.Nullable;

/**
 * The frozen map from tenant to {@link DataSource}, built once at boot and read without locks on
 * every statement.
 *
 * <p>Several tenants may share one datasource. Implementations are immutable and thread-safe.
 */
public interface DataSourceRegistry {

	/**
	 * Return the datasource of {@code tenant}.
	 * @param tenant the tenant
	 * @return the tenant's datasource
	 * @throws DataError of kind {@link DataError.Kind#UNKNOWN_TENANT} naming the tenant
	 */
	DataSource obtainDataSource(TenantId tenant);

	/**
	 * Return the datasource of {@code tenant}, if it is registered.
	 * @param tenant the tenant
	 * @return the tenant's datasource, or {@code null} if the tenant is unknown
	 */
	@Nullable DataSource getDataSource(TenantId tenant);

	/**
	 * Return the tenant used when a pipeline carries no {@link RoutingContext}.
	 * @return the default tenant, or {@code null} when the registry is strict (the default)
	 */
	@Nullable TenantId defaultTenant();

	/**
	 * Return every registered tenant, for tools such as migrations and health checks.
	 * @return an immutable set, in a stable order
	 */
	Set<TenantId> tenants();

	/**
	 * Return every distinct datasource, each once however many tenants share it.
	 * @return an immutable collection, in registration order
	 */
	Collection<DataSource> dataSources();
}
