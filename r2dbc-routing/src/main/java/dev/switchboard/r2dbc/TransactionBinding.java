package dev.switchboard.r2dbc;

import java.util.function.Function;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Marks, in the Reactor Context, that a pipeline runs inside a transaction of one tenant.
 *
 * <p>While the binding is present, {@link RoutingConnectionFactory} sends every connection request
 * to the primary, and fails any request for another tenant with
 * {@link dev.switchboard.api.DataError.Kind#ROUTING_CONFLICT}, so that the transaction rolls back
 * rather than commit half of its work elsewhere. Transaction managers write it; applications
 * rarely need to. Immutable.
 */
public final class TransactionBinding {

	private static final Class<TransactionBinding> KEY = TransactionBinding.class;

	private final TenantId tenant;

	private final DataSource dataSource;

	private TransactionBinding(TenantId tenant, DataSource dataSource) {
		this.tenant = tenant;
		this.dataSource = dataSource;
	}

	/**
	 * Return a context writer that binds the pipeline upstream of it to a transaction.
	 * @param tenant the tenant the transaction runs for
	 * @param dataSource the tenant's datasource
	 * @return a function for {@code contextWrite}
	 */
	public static Function<Context, Context> bind(TenantId tenant, DataSource dataSource) {
		TransactionBinding binding = new TransactionBinding(tenant, dataSource);
		return context -> context.put(KEY, binding);
	}

	/**
	 * Find the transaction the pipeline runs in.
	 * @param context the subscriber's context
	 * @return the binding, or {@code null} outside a transaction
	 */
	public static @Nullable TransactionBinding find(ContextView context) {
		return context.getOrDefault(KEY, null);
	}

	/**
	 * Return the tenant of the transaction.
	 * @return the tenant
	 */
	public TenantId tenant() {
		return this.tenant;
	}

	/**
	 * Return the datasource of the transaction.
	 * @return the datasource
	 */
	public DataSource dataSource() {
		return this.dataSource;
	}

	@Override
	public String toString() {
		return "TransactionBinding[tenant=" + this.tenant + ", datasource=" + this.dataSource.name() + "]";
	}
}
