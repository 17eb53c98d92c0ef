package dev.switchboard.r2dbc;

import java.io.Closeable;
import java.util.LinkedHashSet;
import java.util.Set;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * An R2DBC {@link ConnectionFactory} that routes each subscription to {@link #create()} to the pool
 * of the tenant's primary or of one of its replicas.
 *
 * <p>The decision reads the Reactor Context once:
 * <ol>
 * <li>the {@link RoutingContext} gives the tenant (without one, the registry's default tenant, or
 * a {@link DataError.Kind#MISSING_CONTEXT} error);</li>
 * <li>the frozen {@link DataSourceRegistry} gives the tenant's datasource (or
 * {@link DataError.Kind#UNKNOWN_TENANT});</li>
 * <li>inside a {@link TransactionBinding} the primary is used, and another tenant is a
 * {@link DataError.Kind#ROUTING_CONFLICT};</li>
 * <li>otherwise the declared intent ({@link RoutingContext#intent}), through the request's
 * {@link dev.switchboard.api.ReadAfterWritePin}, chooses: a read goes to a replica, a write or an
 * undeclared intent to the primary.</li>
 * </ol>
 * The decision takes no lock and no allocation of its own; handing the connection over costs two
 * Reactor operators and the {@link RoutedConnection} wrapper (measured in docs/BENCHMARKS.md).
 *
 * <p>Connections are returned as {@link RoutedConnection}s: every failure of the connection, its
 * statements and results leaves as a {@link DataError} naming the tenant, datasource and role. It
 * works for plain R2DBC, Spring's {@code DatabaseClient} and jOOQ alike.
 *
 * <p>{@link #getMetadata()} reports the metadata of the datasources' primaries when they all run the
 * same product; when tenants are on different engines (PostgreSQL and MariaDB, say) it reports
 * the name {@value #MIXED_NAME} followed by the product names, because no single dialect fits:
 * tools that choose a dialect from the metadata must then ask per tenant, as the jOOQ integration
 * does.
 *
 * <p>Closing the factory disposes the registry and so every pool, once. Thread-safe.
 */
public final class RoutingConnectionFactory implements ConnectionFactory, Disposable, Closeable {

	/** The product name reported by {@link #getMetadata()} for mixed engines. */
	public static final String MIXED_NAME = "Switchboard routing";

	private final DataSourceRegistry registry;

	private final @Nullable TenantId defaultTenant;

	private final Mono<Connection> create;

	private final ConnectionFactoryMetadata metadata;

	private final IntentConnectionFactory reads;

	private final IntentConnectionFactory writes;

	private final RoutingListener listener;

	/**
	 * Create a routing factory over a frozen registry.
	 * @param registry the tenant registry; disposed with this factory if it is {@link Disposable}
	 */
	public RoutingConnectionFactory(DataSourceRegistry registry) {
		this(registry, RoutingListener.NONE);
	}

	/**
	 * Create a routing factory over a frozen registry that reports its decisions.
	 * @param registry the tenant registry; disposed with this factory if it is {@link Disposable}
	 * @param listener told of every decision and routing failure
	 */
	public RoutingConnectionFactory(DataSourceRegistry registry, RoutingListener listener) {
		this.registry = registry;
		this.listener = listener;
		this.defaultTenant = registry.defaultTenant();
		this.metadata = metadata(registry);
		this.create = Mono.deferContextual(context -> route(context, null, false));
		this.reads = new IntentConnectionFactory(AccessIntent.READ);
		this.writes = new IntentConnectionFactory(AccessIntent.WRITE);
	}

	/**
	 * Return a connection to the target chosen for the subscribing pipeline.
	 * @return a {@code Mono} of a {@link RoutedConnection}, or a {@link DataError}
	 */
	@Override
	public Mono<Connection> create() {
		return this.create;
	}

	/**
	 * Return a view of this factory that routes as if every pipeline had declared {@code intent},
	 * unless it declares another with {@link RoutingContext#intent}. The pin, the transaction
	 * binding and every error behave as in {@link #create()}. The two views are built once;
	 * closing a view does nothing.
	 * @param intent the intent assumed when none is declared
	 * @return the view for that intent
	 */
	public ConnectionFactory forIntent(AccessIntent intent) {
		return intent == AccessIntent.READ ? this.reads : this.writes;
	}

	/**
	 * Return a connection for a statement whose intent the caller inferred, routed with the context
	 * of the subscriber the caller serves. For adapters that learn a statement's intent only after
	 * they handed out a connection, such as the jOOQ integration. A declared intent in the context
	 * still wins over the inferred one.
	 * @param context the subscriber's context
	 * @param inferred the statement's intent, or {@code null} if unknown (the primary)
	 * @return a {@code Mono} of a {@link RoutedConnection}, or a {@link DataError}
	 */
	public Mono<Connection> create(ContextView context, @Nullable AccessIntent inferred) {
		return Mono.defer(() -> route(context, inferred, false));
	}

	/**
	 * Return a connection to the primary for a transaction about to begin, with the context of the
	 * subscriber the caller serves: a declared read intent cannot send a transaction to a replica.
	 * The pin is tripped, and the tenant and transaction checks of {@link #create()} apply.
	 * @param context the subscriber's context
	 * @return a {@code Mono} of a {@link RoutedConnection} to the primary, or a {@link DataError}
	 */
	public Mono<Connection> createForTransaction(ContextView context) {
		return Mono.defer(() -> route(context, AccessIntent.WRITE, true));
	}

	private Mono<Connection> route(ContextView context, @Nullable AccessIntent defaultIntent, boolean transaction) {
		RoutingContext routing = RoutingContext.find(context);
		TenantId tenant = routing != null ? routing.tenant() : this.defaultTenant;
		if (tenant == null) {
			return fail(context, DataError.missingContext());
		}
		DataSource dataSource = this.registry.getDataSource(tenant);
		if (dataSource == null) {
			return fail(context, DataError.unknownTenant(tenant));
		}
		TransactionBinding binding = TransactionBinding.find(context);
		DataSource.Target target;
		RoutingListener.Reason reason;
		if (binding != null || transaction) {
			if (binding != null && !binding.tenant().equals(tenant)) {
				return fail(context, DataError.routingConflict(binding.tenant(), binding.dataSource().name(), tenant));
			}
			if (routing != null) {
				routing.pin().trip();
			}
			target = dataSource.primary();
			reason = RoutingListener.Reason.PRIMARY_TRANSACTION;
		}
		else {
			AccessIntent declared = RoutingContext.findDeclaredIntent(context);
			if (declared == null) {
				declared = defaultIntent;
			}
			AccessIntent effective = routing != null
					? routing.pin().apply(declared)
					: (declared == AccessIntent.READ ? AccessIntent.READ : AccessIntent.WRITE);
			target = dataSource.select(effective);
			reason = reason(declared, effective, target);
		}
		this.listener.routed(context, tenant, target, reason);
		return connect(target, tenant, context);
	}

	private static RoutingListener.Reason reason(@Nullable AccessIntent declared, AccessIntent effective,
			DataSource.Target target) {
		if (declared != AccessIntent.READ) {
			return RoutingListener.Reason.PRIMARY_WRITE;
		}
		if (effective == AccessIntent.WRITE) {
			return RoutingListener.Reason.PRIMARY_PINNED;
		}
		return target.role() == Role.REPLICA
				? RoutingListener.Reason.REPLICA
				: RoutingListener.Reason.PRIMARY_NO_REPLICA;
	}

	private Mono<Connection> fail(ContextView context, DataError error) {
		this.listener.failed(context, error);
		return Mono.error(error);
	}

	/**
	 * Return a connection to {@code target}, bypassing the decision, for tools that address one
	 * server on purpose (health checks, migrations, tests).
	 * @param target a target of a registered datasource
	 * @param tenant the tenant named in errors
	 * @return a {@code Mono} of a {@link RoutedConnection}
	 */
	public Mono<Connection> connect(DataSource.Target target, TenantId tenant) {
		return connect(target, tenant, Context.empty());
	}

	private Mono<Connection> connect(DataSource.Target target, TenantId tenant, ContextView context) {
		return Mono.from(target.connectionFactory().create())
				.onErrorMap(failure -> {
					DataError error = DataErrorClassifier.classify(failure, tenant, target.dataSource().name(), target.role());
					this.listener.failed(context, error);
					return error;
				})
				.map(connection -> new RoutedConnection(connection, target, tenant, this.listener, context));
	}

	/**
	 * Return the registry this factory routes with.
	 * @return the registry
	 */
	public DataSourceRegistry registry() {
		return this.registry;
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.metadata;
	}

	private static ConnectionFactoryMetadata metadata(DataSourceRegistry registry) {
		Set<String> names = new LinkedHashSet<>();
		ConnectionFactoryMetadata first = null;
		for (DataSource dataSource : registry.dataSources()) {
			ConnectionFactoryMetadata candidate = dataSource.primary().connectionFactory().getMetadata();
			names.add(candidate.getName());
			if (first == null) {
				first = candidate;
			}
		}
		if (names.size() == 1) {
			return first;
		}
		String name = names.isEmpty() ? MIXED_NAME : MIXED_NAME + " " + String.join(", ", names);
		return () -> name;
	}

	/**
	 * Dispose the registry, and with it every pool, once.
	 * @return a {@code Mono} that completes when every pool is disposed
	 */
	public Mono<Void> disposeLater() {
		return Disposal.of(this.registry);
	}

	@Override
	public void dispose() {
		disposeLater().block();
	}

	@Override
	public boolean isDisposed() {
		return this.registry instanceof Disposable disposable && disposable.isDisposed();
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
		return "RoutingConnectionFactory[" + this.registry + "]";
	}

	/**
	 * The view returned by {@link #forIntent(AccessIntent)}: its publisher is built once.
	 */
	private final class IntentConnectionFactory implements ConnectionFactory {

		private final AccessIntent intent;

		private final Mono<Connection> create;

		IntentConnectionFactory(AccessIntent intent) {
			this.intent = intent;
			this.create = Mono.deferContextual(context -> route(context, intent, false));
		}

		@Override
		public Mono<Connection> create() {
			return this.create;
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return RoutingConnectionFactory.this.metadata;
		}

		@Override
		public String toString() {
			return RoutingConnectionFactory.this + "[default intent " + this.intent + "]";
		}
	}
}
