package dev.switchboard.spring;

import java.util.List;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.RoutingListener;
import dev.switchboard.r2dbc.TenantDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import org.jooq.DSLContext;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.health.contributor.ReactiveHealthContributor;
import org.springframework.boot.health.contributor.ReactiveHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.io.ResourceLoader;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.ReactiveTransactionManager;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.util.context.ContextView;

/**
 * Builds Switchboard from {@code switchboard.*} properties: the pools and the
 * {@link TenantDirectory} (tenants from the configuration, a catalog table, and the application's
 * own onboarding), the {@link RoutingConnectionFactory} (the application's R2DBC
 * {@code ConnectionFactory}), the jOOQ {@link RoutedDsl}, {@link TenantDatabase} and, when every
 * datasource shares one dialect, a plain {@link DSLContext}; a reactive transaction manager over
 * the routed factory, which jOOQ joins; a {@code DatabaseClient} that binds each tenant's statements
 * with its engine's markers; Micrometer meters and health contributors when those are on the
 * classpath. The web side is {@link SwitchboardWebAutoConfiguration}.
 *
 * <p>Runs before Boot's transaction and R2DBC auto-configuration, so that Boot's
 * {@code TransactionAutoConfiguration} (brought by this starter) finds the transaction manager and
 * enables {@code @Transactional}, and Boot's R2DBC beans back off.
 *
 * <p>Every bean backs off when the application defines its own. A setting that cannot work stops
 * the application with a {@link SwitchboardConfigurationException} naming its key, reported by
 * {@link SwitchboardFailureAnalyzer}; an unknown {@code switchboard.*} key by
 * {@link UnknownKeyFailureAnalyzer}. Once built, {@link StartupCheck} logs each datasource and
 * connects to every primary.
 */
@AutoConfiguration(afterName = "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
		beforeName = { "org.springframework.boot.r2dbc.autoconfigure.R2dbcAutoConfiguration",
				"org.springframework.boot.r2dbc.autoconfigure.R2dbcTransactionManagerAutoConfiguration",
				"org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration" })
@EnableConfigurationProperties(SwitchboardProperties.class)
public class SwitchboardAutoConfiguration {

	/**
	 * Check, before any bean is built, that the jOOQ on the class path is one Switchboard works
	 * with (Boot's dependency management pins an older one); {@link JooqVersionFailureAnalyzer}
	 * reports it.
	 * @param resourceLoader gives the application's class loader
	 */
	SwitchboardAutoConfiguration(ResourceLoader resourceLoader) {
		JooqVersion.check(resourceLoader.getClassLoader());
	}

	/** INFO lines for the directory's changes; its source's failures are logged where they happen. */
	@Bean
	DirectoryListener switchboardDirectoryLog() {
		return new DirectoryLog();
	}

	@Bean
	StartupCheck switchboardStartupCheck(DataSourceRegistry registry, SwitchboardProperties properties) {
		return new StartupCheck(registry, properties);
	}

	/**
	 * The tenant directory the routing factory routes through: the configured datasources and
	 * tenants, the catalog table with {@code switchboard.directory.source=table} (read once before
	 * this method returns, at most {@code switchboard.startup.timeout}), and the application's
	 * programmatic onboarding through this bean. Told to every {@link DirectoryListener} bean.
	 */
	@Bean(destroyMethod = "dispose")
	@ConditionalOnMissingBean(DataSourceRegistry.class)
	TenantDirectory switchboardTenantDirectory(SwitchboardProperties properties,
			ObjectProvider<DirectoryListener> listeners, ObjectProvider<SwitchboardCredentials> credentials) {
		TenantDirectory directory = DirectoryFactory.build(properties,
				DirectoryListeners.of(listeners.orderedStream().toList()), credentials.getIfUnique());
		DirectoryFactory.start(directory, properties);
		return directory;
	}

	@Bean(destroyMethod = "")
	@ConditionalOnMissingBean(RoutingConnectionFactory.class)
	RoutingConnectionFactory connectionFactory(DataSourceRegistry registry, ObjectProvider<RoutingListener> listeners) {
		List<RoutingListener> all = listeners.orderedStream().toList();
		return new RoutingConnectionFactory(registry, all.size() == 1 ? all.get(0) : new CompositeListener(all),
				SpringBoundTransactions.INSTANCE);
	}

	@Bean
	@ConditionalOnMissingBean
	RoutedDsl switchboardRoutedDsl(RoutingConnectionFactory routing, SwitchboardProperties properties) {
		// No decorator: the routing factory itself joins Spring transactions (SpringBoundTransactions).
		RoutedDsl.Builder builder = RoutedDsl.builder(routing);
		DirectoryFactory.dialects(properties, routing.registry(), builder);
		return builder.build();
	}

	@Bean
	@ConditionalOnMissingBean
	TenantDatabase tenantDatabase(RoutedDsl dsl) {
		return dsl.database();
	}

	@Bean
	@ConditionalOnMissingBean(DSLContext.class)
	@Conditional(SingleDialectCondition.class)
	DSLContext dslContext(RoutedDsl dsl) {
		return dsl.dsl();
	}

	@Bean
	@ConditionalOnMissingBean(ReactiveTransactionManager.class)
	SwitchboardTransactionManager transactionManager(RoutingConnectionFactory routing) {
		return new SwitchboardTransactionManager(routing);
	}

	@Bean
	@ConditionalOnMissingBean
	TransactionalOperator transactionalOperator(ReactiveTransactionManager transactionManager) {
		return TransactionalOperator.create(transactionManager);
	}

	/**
	 * Spring's {@code DatabaseClient} over the routed factory, binding each tenant's statements with
	 * its engine's markers (see {@link SwitchboardDatabaseClient}); Boot's own would take one
	 * engine's markers for every tenant.
	 */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(DatabaseClient.class)
	static class DatabaseClientConfiguration {

		@Bean
		@ConditionalOnMissingBean
		DatabaseClient switchboardDatabaseClient(RoutingConnectionFactory routing) {
			return SwitchboardDatabaseClient.create(routing);
		}
	}

	/** Micrometer meters of routing and pools. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	static class MetricsConfiguration {

		@Bean
		RoutingListener switchboardMetricsListener(ObjectProvider<MeterRegistry> meters) {
			MeterRegistry registry = meters.getIfUnique();
			return registry != null ? new MicrometerRoutingListener(registry) : RoutingListener.NONE;
		}

		@Bean
		DirectoryListener switchboardDirectoryMetrics(ObjectProvider<MeterRegistry> meters) {
			MeterRegistry registry = meters.getIfUnique();
			return registry != null ? new MicrometerDirectoryListener(registry) : DirectoryListener.NONE;
		}

		/** Declared as its own type: it is a {@link DirectoryListener} too, for datasources added later. */
		@Bean
		PoolMetricsBinder switchboardPoolMetrics(ObjectProvider<DataSourceRegistry> registry) {
			return new PoolMetricsBinder(registry::getObject);
		}
	}

	/** Actuator health of every server, as {@code switchboard.<datasource>-<role>[-<i>]}. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(ReactiveHealthIndicator.class)
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "switchboardHealthContributor")
		ReactiveHealthContributor switchboardHealthContributor(DataSourceRegistry registry) {
			return new ServerHealthContributors(registry);
		}
	}

	/** Tells every listener, in order. */
	private record CompositeListener(List<RoutingListener> listeners) implements RoutingListener {

		@Override
		public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
			for (RoutingListener listener : this.listeners) {
				listener.routed(context, tenant, target, reason);
			}
		}

		@Override
		public void failed(ContextView context, DataError error) {
			for (RoutingListener listener : this.listeners) {
				listener.failed(context, error);
			}
		}
	}
}
