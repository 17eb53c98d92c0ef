package dev.switchboard.r2dbc;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * The tenant a pipeline runs for, its datasource and the transaction it runs in, resolved from the
 * subscriber's Reactor Context, or why it cannot be routed: the one home of that rule, for
 * {@link RoutingConnectionFactory} and for adapters that need the tenant's datasource before they
 * ask for a connection ({@link RoutingConnectionFactory#resolve}).
 * <ol>
 * <li>The {@link RoutingContext} gives the tenant; without one, the registry's default tenant, else
 * {@link DataError.Kind#MISSING_CONTEXT}. One written for a bad tenant id or causal token gives
 * its {@link DataError.Kind#INVALID_TENANT_ID} or {@link DataError.Kind#INVALID_CAUSAL_TOKEN}.</li>
 * <li>The registry gives the tenant's datasource, else {@link DataError.Kind#UNKNOWN_TENANT}.</li>
 * <li>Inside a {@link TransactionBinding} of another tenant: {@link DataError.Kind#ROUTING_CONFLICT},
 * and the transaction becomes rollback-only.</li>
 * </ol>
 * Immutable.
 */
public final class TenantResolution {

	private final @Nullable RoutingContext routing;

	private final @Nullable TenantId tenant;

	private final @Nullable DataSource dataSource;

	private final @Nullable TransactionBinding transaction;

	private final @Nullable DataError failure;

	private TenantResolution(@Nullable RoutingContext routing, @Nullable TenantId tenant,
			@Nullable DataSource dataSource, @Nullable TransactionBinding transaction, @Nullable DataError failure) {
		this.routing = routing;
		this.tenant = tenant;
		this.dataSource = dataSource;
		this.transaction = transaction;
		this.failure = failure;
	}

	static TenantResolution resolve(ContextView context, DataSourceRegistry registry, @Nullable TenantId defaultTenant) {
		RoutingContext routing = RoutingContext.find(context);
		TenantId tenant = routing != null ? routing.tenant() : defaultTenant;
		if (tenant == null) {
			return new TenantResolution(routing, null, null, null, RoutingContext.noTenantError(routing));
		}
		DataSource dataSource = registry.getDataSource(tenant);
		if (dataSource == null) {
			return new TenantResolution(routing, tenant, null, null, DataError.unknownTenant(tenant));
		}
		TransactionBinding transaction = TransactionBinding.find(context);
		DataError conflict = transaction != null ? transaction.conflict(tenant) : null;
		return new TenantResolution(routing, tenant, dataSource, transaction, conflict);
	}

	/**
	 * Return why the pipeline cannot be routed.
	 * @return the routing error, or {@code null} when the tenant and its datasource are resolved
	 */
	public @Nullable DataError failure() {
		return this.failure;
	}

	/**
	 * Return the routing context of the pipeline.
	 * @return it, or {@code null} when the default tenant serves a pipeline without one
	 */
	public @Nullable RoutingContext routing() {
		return this.routing;
	}

	/**
	 * Return the tenant.
	 * @return the tenant
	 * @throws DataError if the pipeline cannot be routed
	 */
	public TenantId tenant() {
		requireResolved();
		return this.tenant;
	}

	/**
	 * Return the tenant's datasource.
	 * @return the datasource
	 * @throws DataError if the pipeline cannot be routed
	 */
	public DataSource dataSource() {
		requireResolved();
		return this.dataSource;
	}

	/**
	 * Return the transaction the pipeline runs in.
	 * @return its binding, or {@code null} outside a transaction
	 */
	public @Nullable TransactionBinding transaction() {
		return this.transaction;
	}

	private void requireResolved() {
		if (this.failure != null) {
			throw this.failure;
		}
	}

	@Override
	public String toString() {
		return this.failure != null ? "TenantResolution[" + this.failure.kind() + "]"
				: "TenantResolution[" + this.tenant + " on " + this.dataSource.name() + "]";
	}
}
