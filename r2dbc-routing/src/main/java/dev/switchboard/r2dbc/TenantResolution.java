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
 * <li>The directory gives the tenant's datasource, else {@link DataError.Kind#UNKNOWN_TENANT}, or
 * {@link DataError.Kind#TENANT_OFFBOARDED} for a tenant that was offboarded.</li>
 * <li>Inside a {@link TransactionBinding} of another tenant: {@link DataError.Kind#ROUTING_CONFLICT},
 * and the transaction becomes rollback-only; of the same tenant, bound to a datasource the tenant
 * has left since: {@link DataError.Kind#TENANT_MOVED} ({@link #moved}).</li>
 * </ol>
 * Immutable.
 */
public final class TenantResolution {

	private final @Nullable RoutingContext routing;

	private final @Nullable TenantId tenant;

	/** The tenant on its placement: what the connection will hold a lease on. */
	private final @Nullable Tenancy tenancy;

	private final @Nullable TransactionBinding transaction;

	private final @Nullable DataError failure;

	private TenantResolution(@Nullable RoutingContext routing, @Nullable TenantId tenant,
			@Nullable Tenancy tenancy, @Nullable TransactionBinding transaction, @Nullable DataError failure) {
		this.routing = routing;
		this.tenant = tenant;
		this.tenancy = tenancy;
		this.transaction = transaction;
		this.failure = failure;
	}

	static TenantResolution resolve(ContextView context, TenantDirectory directory, @Nullable TenantId defaultTenant) {
		// One allocation site, so that C2 can scalar-replace the resolution on the routing path
		// also before JDK 22 (which merges several); the failure branches then cost nothing.
		RoutingContext routing = RoutingContext.find(context);
		TenantId tenant = tenantOf(routing, defaultTenant);
		Tenancy tenancy = tenant != null ? directory.tenancy(tenant) : null;
		boolean placed = tenancy != null && !tenancy.isTombstone();
		TransactionBinding transaction = placed ? TransactionBinding.find(context) : null;
		DataError failure = tenant == null ? RoutingContext.noTenantError(routing)
				: tenancy == null ? DataError.unknownTenant(tenant)
				: !placed ? DataError.tenantOffboarded(tenant)
				: transaction != null ? inTransaction(transaction, tenant, tenancy)
				: null;
		return new TenantResolution(routing, tenant, tenancy, transaction, failure);
	}

	/**
	 * Inside a transaction: another tenant is a conflict; the same tenant, since moved to another
	 * datasource than the one its transaction was prepared for (a facade transaction between its
	 * resolution and its {@code BEGIN}), is {@link DataError#tenantMoved}.
	 */
	private static @Nullable DataError inTransaction(TransactionBinding transaction, TenantId tenant,
			Tenancy tenancy) {
		DataError conflict = transaction.conflict(tenant);
		if (conflict != null) {
			return conflict;
		}
		return moved(tenant, transaction.dataSourceOrNull(), tenancy.dataSource);
	}

	/**
	 * Check work prepared for one datasource (rendered in its SQL dialect, a transaction bound to
	 * it) that routing sends to another because the tenant moved in between: it must not run
	 * there. The one home of the {@link DataError.Kind#TENANT_MOVED} rule, for routing and for
	 * adapters that prepare work before they route it, such as the jOOQ facade.
	 * @param tenant the tenant
	 * @param preparedFor the datasource the work was prepared for, or {@code null} if for none
	 * @param routedTo the datasource the work is routed to
	 * @return the {@link DataError#tenantMoved} error, or {@code null} when the work may run
	 */
	public static @Nullable DataError moved(TenantId tenant, @Nullable DataSource preparedFor, DataSource routedTo) {
		return preparedFor == null || preparedFor == routedTo ? null
				: DataError.tenantMoved(tenant, preparedFor.name(), routedTo.name());
	}

	/**
	 * Return the datasource routing would choose for a pipeline's tenant, without reporting or
	 * marking anything: for adapters that pick a per-engine strategy before routing runs, such as
	 * the starter's {@code DatabaseClient}. The pipeline's transaction is not looked at.
	 * @param context the subscriber's context
	 * @param registry the registry routing uses
	 * @return the datasource, or {@code null} when routing will refuse the pipeline
	 */
	public static @Nullable DataSource peek(ContextView context, DataSourceRegistry registry) {
		TenantId tenant = tenantOf(RoutingContext.find(context), registry.defaultTenant());
		return tenant != null ? registry.getDataSource(tenant) : null;
	}

	/** The tenant rule: the routing context's, else the default tenant, else none. */
	private static @Nullable TenantId tenantOf(@Nullable RoutingContext routing, @Nullable TenantId defaultTenant) {
		return routing != null ? routing.tenant() : defaultTenant;
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
		return this.tenancy.dataSource;
	}

	/** The tenant on its placement, once resolved. */
	Tenancy tenancy() {
		requireResolved();
		return this.tenancy;
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
				: "TenantResolution[" + this.tenant + " on " + this.tenancy.dataSource.name() + "]";
	}
}
