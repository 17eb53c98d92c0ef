package dev.switchboard.jooq;

import java.util.Collection;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.UnaryOperator;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.Engine;
import dev.switchboard.jooq.DeferredConnection.IntentSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.Configuration;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConfiguration;
import org.jspecify.annotations.Nullable;

/**
 * The jOOQ side of Switchboard: every {@link DSLContext} the application uses, built once at boot
 * over a {@link RoutingConnectionFactory}, each with its datasource's {@link SQLDialect} and
 * {@link Settings}, and each with the {@link ReactorSubscriberProvider} installed. A datasource
 * added to the tenant directory after boot gets its contexts on first use.
 *
 * <p>Two entry points:
 * <ol>
 * <li>{@link #dsl()}: one plain {@code DSLContext} that routes by tenant and by the intent of each
 * query, for deployments whose tenants share one dialect.</li>
 * <li>{@link #database()}: the {@link TenantDatabase} facade, for any deployment, mixed dialects
 * included. It gives the current tenant's {@code DSLContext} inside a pipeline, infers the intent
 * of a query, and runs routed transactions.</li>
 * </ol>
 * Immutable and thread-safe.
 */
public final class RoutedDsl {

	private final RoutingConnectionFactory routing;

	/**
	 * The contexts of each datasource: built at boot for those registered then, on first use for
	 * one added to the directory later; looked up without a lock.
	 */
	private final ConcurrentMap<DataSource, DialectContexts> contexts;

	/** The dialects set on the builder, by datasource name, for datasources added later. */
	private final Map<String, SQLDialect> configured;

	private final Settings settings;

	private final ConnectionFactory calls;

	private final ConnectionFactory reads;

	private final ConnectionFactory writes;

	private final @Nullable DSLContext dsl;

	private final Set<SQLDialect> dialects;

	private final TenantDatabase database;

	private RoutedDsl(RoutingConnectionFactory routing, Map<DataSource, SQLDialect> dialects,
			Map<String, SQLDialect> configured, Settings settings, UnaryOperator<ConnectionFactory> decorator) {
		this.routing = routing;
		this.configured = Map.copyOf(configured);
		this.settings = settings;
		ConnectionFactory rendering = decorator.apply(new DeferredConnectionFactory(routing, IntentSource.RENDERING));
		this.calls = decorator.apply(new DeferredConnectionFactory(routing, IntentSource.CALL));
		this.reads = decorator.apply(new DeferredConnectionFactory(routing, IntentSource.READ));
		this.writes = decorator.apply(new DeferredConnectionFactory(routing, IntentSource.WRITE));
		this.contexts = new ConcurrentHashMap<>();
		dialects.forEach((dataSource, dialect) -> this.contexts.put(dataSource, build(dataSource, dialect)));
		this.dialects = Set.copyOf(EnumSet.copyOf(dialects.values()));
		this.dsl = this.dialects.size() == 1
				? DSL.using(inferringConfiguration(rendering, this.dialects.iterator().next(), settings))
				: null;
		this.database = new TenantDatabase(routing, this::contexts);
	}

	private DialectContexts build(DataSource dataSource, SQLDialect dialect) {
		return new DialectContexts(dataSource, dialect,
				DSL.using(configuration(this.calls, dialect, this.settings)),
				DSL.using(configuration(this.reads, dialect, this.settings)),
				DSL.using(configuration(this.writes, dialect, this.settings)),
				configuration(this.routing.forIntent(AccessIntent.WRITE), dialect, this.settings));
	}

	/**
	 * The contexts of a datasource the routing resolved a tenant to; built on first use for a
	 * datasource added to the directory after boot, with the dialect set on the builder for its
	 * name, else the one its primary reports.
	 */
	DialectContexts contexts(DataSource dataSource) {
		DialectContexts found = this.contexts.get(dataSource);
		return found != null ? found : added(dataSource);
	}

	private DialectContexts added(DataSource dataSource) {
		// Forget the datasources removed since: they hold a removed datasource's pools from collection.
		Collection<DataSource> registered = this.routing.registry().dataSources();
		this.contexts.keySet().removeIf(known -> !registered.contains(known));
		return this.contexts.computeIfAbsent(dataSource, added -> {
			SQLDialect dialect = this.configured.get(added.name());
			return build(added, dialect != null ? dialect : Builder.detect(added));
		});
	}

	private static Configuration inferringConfiguration(ConnectionFactory factory, SQLDialect dialect, Settings settings) {
		return configuration(factory, dialect, settings).set(() -> IntentInference.INSTANCE);
	}

	private static Configuration configuration(ConnectionFactory factory, SQLDialect dialect, Settings settings) {
		return new DefaultConfiguration()
				.set(factory)
				.set(dialect)
				.set(settings)
				.set(ReactorSubscriberProvider.INSTANCE);
	}

	/**
	 * Start building, over a routing factory.
	 * @param routing the routing connection factory
	 * @return a new builder
	 */
	public static Builder builder(RoutingConnectionFactory routing) {
		return new Builder(routing);
	}

	/**
	 * Return the plain routed {@code DSLContext}: every query it runs is routed by the tenant in
	 * the Reactor Context of its subscriber, and by the query's intent: a select that neither locks
	 * rows ({@code FOR UPDATE}, {@code FOR SHARE}) nor modifies data in a {@code WITH} may go to a
	 * replica; anything else, plain SQL included, goes to the primary, unless the pipeline declares
	 * otherwise with {@code RoutingContext.intent(...)}.
	 * <pre class="code">
	 * Flux.from(dsl.selectFrom(ORDERS).where(ORDERS.ID.eq(id)))      // a replica
	 *     .contextWrite(RoutingContext.forTenant("acme"));
	 * </pre>
	 * <p>jOOQ asks for a connection before it renders the query, so this context hands jOOQ a
	 * connection that routes when jOOQ creates the statement; its transactions
	 * ({@code transactionPublisher}) begin on, and stay on, one primary connection.
	 * <p>jOOQ may still run a query whose subscription was cancelled before the query took its
	 * connection, and then never releases that connection. {@link TenantDatabase} guards against
	 * that; with this context, a connection is only refused when jOOQ cancels its connection
	 * subscription.
	 * <p>A datasource added to the tenant directory later must use the same dialect: this context
	 * renders every query in it.
	 * @return the routed context
	 * @throws IllegalStateException if the datasources use more than one dialect; use
	 * {@link #database()} then
	 */
	public DSLContext dsl() {
		if (this.dsl == null) {
			throw new IllegalStateException("the datasources use several SQL dialects " + this.dialects
					+ "; one DSLContext cannot render for all of them: use RoutedDsl.database()");
		}
		return this.dsl;
	}

	/**
	 * Return the facade for mixed-dialect deployments.
	 * @return the facade
	 */
	public TenantDatabase database() {
		return this.database;
	}

	/**
	 * Return the context of a datasource for an intent, for tools that address one datasource
	 * directly; statements still go through routing and need a routing context.
	 * @param dataSource a registered datasource
	 * @param intent the intent assumed when the pipeline declares none
	 * @return the context, built at boot, or on first use for a datasource added later
	 * @throws IllegalArgumentException if the datasource is not registered
	 */
	public DSLContext dsl(DataSource dataSource, AccessIntent intent) {
		DialectContexts found = this.contexts.get(dataSource);
		if (found == null) {
			if (!this.routing.registry().dataSources().contains(dataSource)) {
				throw new IllegalArgumentException("datasource '" + dataSource.name() + "' is not registered");
			}
			found = added(dataSource);
		}
		return found.forIntent(intent);
	}

	/**
	 * Return the routing factory under every context.
	 * @return the routing factory
	 */
	public RoutingConnectionFactory routing() {
		return this.routing;
	}

	/**
	 * Builds a {@link RoutedDsl}. Not thread-safe.
	 */
	public static final class Builder {

		private final RoutingConnectionFactory routing;

		private final Map<String, SQLDialect> dialects = new LinkedHashMap<>();

		private Settings settings = new Settings();

		private UnaryOperator<ConnectionFactory> decorator = UnaryOperator.identity();

		private Builder(RoutingConnectionFactory routing) {
			if (routing == null) {
				throw new IllegalArgumentException("routing must not be null");
			}
			this.routing = routing;
		}

		/**
		 * Set the dialect of a datasource. Without it, the dialect is taken from the product name of
		 * the datasource's primary: PostgreSQL, MariaDB or MySQL (the r2dbc-mysql driver reports
		 * MariaDB servers as MySQL; set {@link SQLDialect#MARIADB} for them).
		 * @param dataSource the datasource name
		 * @param dialect its dialect
		 * @return this builder
		 */
		public Builder dialect(String dataSource, SQLDialect dialect) {
			if (dialect == null) {
				throw new IllegalArgumentException("dialect of datasource '" + dataSource + "' must not be null");
			}
			this.dialects.put(dataSource, dialect);
			return this;
		}

		/**
		 * Set the jOOQ settings of every context; copied.
		 * @param settings the settings
		 * @return this builder
		 */
		public Builder settings(Settings settings) {
			if (settings == null) {
				throw new IllegalArgumentException("settings must not be null");
			}
			this.settings = (Settings) settings.clone();
			return this;
		}

		/**
		 * Decorate the connection factory under each context built once at boot, for example to
		 * observe or proxy connections. Joining a Spring transaction needs no decorator: a routing
		 * factory built with Spring's {@code BoundTransactions} (the starter's is) hands every
		 * connection requested inside the transaction the transaction's own, whatever the decorator.
		 * The connections of {@link TenantDatabase#transactional} come through the decorated write
		 * context too.
		 * @param decorator applied to the routing factory and to each of its intent views
		 * @return this builder
		 */
		public Builder connectionFactoryDecorator(UnaryOperator<ConnectionFactory> decorator) {
			if (decorator == null) {
				throw new IllegalArgumentException("connectionFactoryDecorator must not be null");
			}
			this.decorator = decorator;
			return this;
		}

		/**
		 * Tell the dialect of a datasource from the product name its primary reports.
		 * @param dataSource the datasource
		 * @return the dialect
		 * @throws IllegalStateException if the product is not PostgreSQL, MariaDB, MySQL or H2
		 */
		public static SQLDialect detectDialect(DataSource dataSource) {
			return detect(dataSource);
		}

		/**
		 * Build every context.
		 * @return the routed DSL
		 * @throws IllegalStateException if a dialect names an unknown datasource, or a datasource's
		 * dialect cannot be detected
		 */
		public RoutedDsl build() {
			DataSourceRegistry registry = this.routing.registry();
			Map<String, DataSource> byName = new LinkedHashMap<>();
			registry.dataSources().forEach(dataSource -> byName.put(dataSource.name(), dataSource));
			for (String name : this.dialects.keySet()) {
				if (!byName.containsKey(name)) {
					throw new IllegalStateException("dialect set for datasource '" + name
							+ "', which is not registered (registered: " + byName.keySet() + ")");
				}
			}
			Map<DataSource, SQLDialect> resolved = new LinkedHashMap<>();
			byName.forEach((name, dataSource) -> {
				SQLDialect dialect = this.dialects.get(name);
				resolved.put(dataSource, dialect != null ? dialect : detect(dataSource));
			});
			if (resolved.isEmpty()) {
				throw new IllegalStateException("the routing factory has no datasource");
			}
			return new RoutedDsl(this.routing, resolved, this.dialects, this.settings, this.decorator);
		}

		private static SQLDialect detect(DataSource dataSource) {
			String product = dataSource.primary().connectionFactory().getMetadata().getName();
			Engine engine = Engine.fromProduct(product, null);
			if (engine == null) {
				throw new IllegalStateException("cannot tell the SQL dialect of datasource '" + dataSource.name()
						+ "' from its product name '" + product + "'; set it with RoutedDsl.Builder.dialect(...)");
			}
			return dialectOf(engine);
		}

		/**
		 * Return jOOQ's dialect for an engine.
		 * @param engine the engine
		 * @return its dialect
		 */
		public static SQLDialect dialectOf(Engine engine) {
			return switch (engine) {
				case POSTGRESQL -> SQLDialect.POSTGRES;
				case MARIADB -> SQLDialect.MARIADB;
				case MYSQL -> SQLDialect.MYSQL;
				case H2 -> SQLDialect.H2;
			};
		}
	}
}
