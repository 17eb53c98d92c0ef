package dev.switchboard.spring;

import java.util.List;

import dev.switchboard.api.DataSource;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import dev.switchboard.api.ReadConsistency;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.r2dbc.core.binding.BindMarkersFactoryResolver;
import org.springframework.transaction.reactive.TransactionalOperator;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auto-configuration from properties alone, over in-memory H2 (no server is contacted while
 * the context starts).
 */
class SwitchboardAutoConfigurationTest {

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class));

	static final String[] GOOD = {
			"switchboard.datasources.main.primary=r2dbc:h2:mem:///autoconfig-primary",
			"switchboard.datasources.main.replicas[0]=r2dbc:h2:mem:///autoconfig-replica",
			"switchboard.datasources.main.pool.max-size=3",
			"switchboard.tenants.acme.datasource=main",
			"switchboard.tenants.initech.datasource=main" };

	/** For datasources on a closed port: the start does not connect to them. */
	static final String NO_VERIFY = "switchboard.startup.verify=false";

	@Test
	void goodConfigurationBuildsEveryBean() {
		this.runner.withPropertyValues(GOOD).run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context).getBean(ConnectionFactory.class).isInstanceOf(RoutingConnectionFactory.class);
			RoutingConnectionFactory routing = context.getBean(RoutingConnectionFactory.class);
			assertThat(routing.registry().tenants()).extracting(Object::toString).containsExactly("acme", "initech");
			assertThat(routing.registry().dataSources()).singleElement()
					.satisfies(dataSource -> assertThat(dataSource.replicas()).hasSize(1));
			assertThat(context).hasSingleBean(TenantDatabase.class).hasSingleBean(TransactionalOperator.class);
			assertThat(context.getBean(DSLContext.class).dialect()).isEqualTo(SQLDialect.H2);
		});
	}

	@Test
	void mixedDialectsGetTheFacadeButNoPlainDslContext() {
		this.runner.withPropertyValues(GOOD)
				.withPropertyValues(NO_VERIFY, "switchboard.datasources.pg.primary=r2dbc:postgresql://postgres@127.0.0.1:1/none",
						"switchboard.tenants.globex.datasource=pg")
				.run(context -> {
					assertThat(context).hasNotFailed();
					assertThat(context).hasSingleBean(TenantDatabase.class).doesNotHaveBean(DSLContext.class);
				});
	}

	@Test
	void missingPrimaryNamesTheKey() {
		assertFailsNaming("switchboard.datasources.main.primary", "must be set",
				"switchboard.datasources.main.replicas[0]=r2dbc:h2:mem:///x", "switchboard.tenants.acme.datasource=main");
	}

	@Test
	void unusableUrlNamesTheKey() {
		assertFailsNaming("switchboard.datasources.main.replicas[0]", "is not usable",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x",
				"switchboard.datasources.main.replicas[0]=r2dbc:nosuchdriver://host/db",
				"switchboard.tenants.acme.datasource=main");
	}

	@Test
	void tenantOfAnUnknownDataSourceNamesTheKey() {
		assertFailsNaming("switchboard.tenants.acme.datasource", "names datasource 'nowhere'",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.tenants.acme.datasource=nowhere");
	}

	@Test
	void invalidTenantIdNamesTheKey() {
		assertFailsNaming("switchboard.tenants.[acme corp]", "is not a valid tenant id",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.tenants.[acme corp].datasource=main");
	}

	@Test
	void badPoolSizeNamesTheKey() {
		assertFailsNaming("switchboard.datasources.main.pool.max-size", "must be >= 1, was 0",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.datasources.main.pool.max-size=0",
				"switchboard.tenants.acme.datasource=main");
	}

	@Test
	void poolSettingsBeyondBootsOwnAreCheckedByKey() {
		assertFailsNaming("switchboard.datasources.main.pool.min-idle", "must be between 0 and max-size (3), was 4",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.datasources.main.pool.max-size=3",
				"switchboard.datasources.main.pool.min-idle=4", "switchboard.tenants.acme.datasource=main");
		assertFailsNaming("switchboard.datasources.main.pool.max-life-time", "must be positive, was PT0S",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.datasources.main.pool.max-life-time=0s",
				"switchboard.tenants.acme.datasource=main");
		assertFailsNaming("switchboard.datasources.main.pool.max-create-connection-time", "must be positive",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x",
				"switchboard.datasources.main.pool.max-create-connection-time=-1s", "switchboard.tenants.acme.datasource=main");
	}

	@Test
	void everyPoolSettingOfBootsBinds() {
		this.runner.withPropertyValues(GOOD).withPropertyValues("switchboard.datasources.main.pool.min-idle=1",
				"switchboard.datasources.main.pool.max-life-time=10m", "switchboard.datasources.main.pool.validation-depth=remote",
				"switchboard.datasources.main.pool.max-validation-time=2s", "switchboard.datasources.main.pool.acquire-retry=2",
				"switchboard.datasources.main.pool.background-eviction-interval=1m",
				"switchboard.datasources.main.pool.max-create-connection-time=3s")
				.run(context -> {
					assertThat(context).hasNotFailed();
					SwitchboardProperties.Pool pool = context.getBean(SwitchboardProperties.class).datasources().get("main").pool();
					assertThat(pool.validationDepth()).isEqualTo(io.r2dbc.spi.ValidationDepth.REMOTE);
					assertThat(pool.maxLifeTime()).isEqualTo(java.time.Duration.ofMinutes(10));
					assertThat(pool.minIdle()).isEqualTo(1);
					// What r2dbc-pool shows of them: GOOD's max-size 3 on the primary's and the replica's pool.
					DataSource main = context.getBean(RoutingConnectionFactory.class).registry().dataSources().iterator().next();
					for (DataSource.Target target : List.of(main.primary(), main.replicas().get(0))) {
						assertThat(target.connectionFactory()).isInstanceOfSatisfying(ConnectionPool.class, connectionPool -> assertThat(
								connectionPool.getMetrics().orElseThrow().getMaxAllocatedSize()).isEqualTo(3));
					}
				});
	}

	@Test
	void theJarDescribesItsSettingsForIdes() throws Exception {
		String metadata = new String(getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")
				.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
		assertThat(metadata).contains("\"name\": \"switchboard.startup.verify\"", "\"defaultValue\": true",
				"\"name\": \"switchboard.web.tenant-header\"", "\"defaultValue\": \"X-Tenant-Id\"",
				"the request header that names the tenant");
	}

	@Test
	void unknownDefaultTenantNamesTheKey() {
		assertFailsNaming("switchboard.default-tenant", "names tenant 'hooli'",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x", "switchboard.tenants.acme.datasource=main",
				"switchboard.default-tenant=hooli");
	}

	@Test
	void badReplicationSettingsNameTheKey() {
		assertFailsNaming("switchboard.datasources.main.max-replication-lag", "must be positive",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x",
				"switchboard.datasources.main.max-replication-lag=-1s", "switchboard.tenants.acme.datasource=main");
		assertFailsNaming("switchboard.datasources.main.causal-wait", "must be from 0 to 10s",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x",
				"switchboard.datasources.main.causal-wait=1m", "switchboard.tenants.acme.datasource=main");
		assertFailsNaming("switchboard.datasources.main.probe-interval", "must be from 10ms to 1m",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x",
				"switchboard.datasources.main.probe-interval=1ms", "switchboard.tenants.acme.datasource=main");
	}

	@Test
	void causalConsistencyIsConfigured() {
		this.runner.withPropertyValues(GOOD).withPropertyValues("switchboard.datasources.main.consistency=causal")
				.run(context -> assertThat(context.getBean(RoutingConnectionFactory.class).registry().dataSources())
						.singleElement()
						.satisfies(dataSource -> assertThat(dataSource.consistency()).isEqualTo(ReadConsistency.CAUSAL)));
	}

	@Test
	void noTenantsNamesTheKey() {
		assertFailsNaming("switchboard.tenants", "must name at least one tenant",
				"switchboard.datasources.main.primary=r2dbc:h2:mem:///x");
	}

	@Test
	void oneEngineGetsSpringsPlainDatabaseClient() {
		this.runner.withPropertyValues(GOOD).run(context -> {
			assertThat(context).hasSingleBean(DatabaseClient.class);
			assertThat(context.getBean(DatabaseClient.class)).isNotInstanceOf(SwitchboardDatabaseClient.class);
			assertThat(context.getBean(DatabaseClient.class).getConnectionFactory())
					.isSameAs(context.getBean(RoutingConnectionFactory.class));
		});
	}

	@Test
	void enginesThatBindDifferentlyGetADatabaseClientWithMarkersPerEngine() {
		this.runner.withPropertyValues(GOOD)
				.withPropertyValues(NO_VERIFY, "switchboard.datasources.maria.primary=r2dbc:mysql://root@127.0.0.1:1/none",
						"switchboard.datasources.maria.dialect=MARIADB", "switchboard.tenants.globex.datasource=maria")
				.run(context -> {
					assertThat(context).hasNotFailed();
					assertThat(context.getBean(DatabaseClient.class)).isInstanceOfSatisfying(SwitchboardDatabaseClient.class,
							client -> assertThat(client.styles()).containsExactly("$1", "?"));
				});
	}

	@Test
	void aPlainDatabaseClientOverEnginesThatBindDifferentlyStopsTheStartSayingWhatToDo() {
		this.runner.withPropertyValues(GOOD)
				.withPropertyValues(NO_VERIFY, "switchboard.datasources.maria.primary=r2dbc:mysql://root@127.0.0.1:1/none",
						"switchboard.datasources.maria.dialect=MARIADB", "switchboard.tenants.globex.datasource=maria")
				.withUserConfiguration(PlainDatabaseClient.class)
				.run(context -> {
					assertThat(context).hasFailed();
					assertThat(context.getStartupFailure()).rootCause()
							.isInstanceOf(BindMarkersFactoryResolver.NoBindMarkersFactoryException.class)
							.hasMessageContaining("H2 binds $1, MySQL binds ?")
							.hasMessageContaining("SwitchboardDatabaseClient.create(routingConnectionFactory)");
				});
	}

	/** What a user might write: Spring's client, which takes one engine's markers. */
	@Configuration(proxyBeanMethods = false)
	static class PlainDatabaseClient {

		@Bean
		DatabaseClient userDatabaseClient(RoutingConnectionFactory routing) {
			return DatabaseClient.create(routing);
		}
	}

	void assertFailsNaming(String key, String problem, String... properties) {
		this.runner.withPropertyValues(properties).run(context -> {
			assertThat(context).hasFailed();
			Throwable failure = context.getStartupFailure();
			while (failure != null && !(failure instanceof SwitchboardConfigurationException)) {
				failure = failure.getCause();
			}
			assertThat(failure).as("a SwitchboardConfigurationException in %s", context.getStartupFailure())
					.isInstanceOf(SwitchboardConfigurationException.class)
					.hasMessageStartingWith(key.replace("[acme corp]", "acme corp"))
					.hasMessageContaining(problem);
		});
	}
}
