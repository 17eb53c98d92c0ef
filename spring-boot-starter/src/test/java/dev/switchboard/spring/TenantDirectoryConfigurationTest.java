package dev.switchboard.spring;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.Placement;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantDirectory;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The tenant directory from properties ({@code switchboard.directory.*}), over in-memory H2: the
 * bean, its listeners, its meters, the Actuator endpoint's presence, and every bad setting stopping
 * the start under its key.
 */
@ExtendWith(OutputCaptureExtension.class)
class TenantDirectoryConfigurationTest {

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class,
					SwitchboardEndpointAutoConfiguration.class));

	static final String[] GOOD = { "switchboard.datasources.main.primary=r2dbc:h2:mem:///directory-primary",
			"switchboard.datasources.catalog.primary=r2dbc:h2:mem:///directory-catalog",
			"switchboard.tenants.acme.datasource=main" };

	@Test
	void theRegistryIsATenantDirectoryThatOnboardsAtRuntime() {
		this.runner.withPropertyValues(GOOD).withUserConfiguration(Recording.class).run(context -> {
			assertThat(context).hasNotFailed();
			TenantDirectory directory = context.getBean(TenantDirectory.class);
			assertThat(context.getBean(DataSourceRegistry.class)).isSameAs(directory);
			assertThat(context.getBean(RoutingConnectionFactory.class).directory()).isSameAs(directory);
			directory.onboard(TenantId.of("globex"), Placement.on("main")).block(Duration.ofSeconds(5));
			assertThat(directory.tenants()).extracting(TenantId::value).containsExactly("acme", "globex");
			// The application's listener and the starter's meters both heard of it.
			assertThat(context.getBean(Recording.class).events).containsExactly("onboarded globex on main");
			MeterRegistry meters = context.getBean(MeterRegistry.class);
			assertThat(meters.find("switchboard.directory.changes").tag("kind", "onboarded").counter().count()).isEqualTo(1);
			assertThat(meters.find("switchboard.directory.changes").tag("kind", "moved").counter().count()).isZero();
			assertThat(meters.find("switchboard.directory.refresh.failures").counter().count()).isZero();
			assertThat(meters.find("switchboard.directory.entries.rejected").counter().count()).isZero();
		});
	}

	@Test
	void aListenerThatThrowsNeitherFailsTheChangeNorSilencesTheOthers() {
		this.runner.withPropertyValues(GOOD).withUserConfiguration(Throwing.class, Recording.class).run(context -> {
			TenantDirectory directory = context.getBean(TenantDirectory.class);
			directory.onboard("globex", "main").block(Duration.ofSeconds(5));
			assertThat(context.getBean(Recording.class).events).containsExactly("onboarded globex on main");
		});
	}

	@Test
	void aCatalogThatCannotBeReadAtStartupLeavesTheConfiguredTenants(CapturedOutput output) {
		// Nothing listens on port 1: the start goes on, and says so.
		this.runner.withPropertyValues(GOOD).withPropertyValues("switchboard.directory.source=table",
				"switchboard.datasources.catalog.primary=r2dbc:postgresql://postgres@127.0.0.1:1/none",
				"switchboard.directory.table.datasource=catalog", "switchboard.directory.table.name=no_such_table",
				"switchboard.directory.table.refresh-interval=1h").withUserConfiguration(Recording.class).run(context -> {
			assertThat(context).hasNotFailed();
			assertThat(context.getBean(TenantDirectory.class).tenants()).extracting(TenantId::value).containsExactly("acme");
			assertThat(output.getOut()).contains("the tenant catalog 'no_such_table' on datasource 'catalog' could not be"
					+ " read at startup (connection refused").contains("starting with the 1 configured tenant(s), and reading it"
					+ " again every 1h");
			assertThat(context.getBean(MeterRegistry.class).find("switchboard.directory.refresh.failures").counter()
					.count()).isEqualTo(1);
		});
	}

	@Test
	void aCatalogMayBeTheOnlySourceOfTenants() {
		this.runner.withPropertyValues("switchboard.datasources.main.primary=r2dbc:postgresql://postgres@127.0.0.1:1/none",
				"switchboard.directory.source=table", "switchboard.directory.table.datasource=main",
				"switchboard.directory.table.name=no_such_table").run(context -> assertThat(context).hasNotFailed());
	}

	@Test
	void aTableSourceWithoutACatalogNamesTheKey() {
		assertFailsNaming("switchboard.directory.table.datasource", "must name the catalog datasource, one of [main, catalog]",
				GOOD, "switchboard.directory.source=table");
	}

	@Test
	void anUnknownCatalogNamesTheKey() {
		assertFailsNaming("switchboard.directory.table.datasource", "names datasource 'nowhere', which is not configured",
				GOOD, "switchboard.directory.source=table", "switchboard.directory.table.datasource=nowhere");
	}

	@Test
	void aRefreshIntervalThatIsNotPositiveNamesTheKey() {
		assertFailsNaming("switchboard.directory.table.refresh-interval", "must be positive, was PT0S",
				GOOD, "switchboard.directory.source=table", "switchboard.directory.table.datasource=catalog",
				"switchboard.directory.table.refresh-interval=0s");
	}

	@Test
	void anUnknownSourceIsRefusedByBinding() {
		this.runner.withPropertyValues(GOOD).withPropertyValues("switchboard.directory.source=ldap")
				.run(context -> assertThat(context).hasFailed());
	}

	@Test
	void theEndpointIsThereWhenExposed() {
		this.runner.withPropertyValues(GOOD).run(context -> assertThat(context).doesNotHaveBean(SwitchboardEndpoint.class));
		this.runner.withPropertyValues(GOOD).withPropertyValues("management.endpoints.web.exposure.include=switchboard")
				.run(context -> {
					assertThat(context).hasSingleBean(SwitchboardEndpoint.class);
					SwitchboardEndpoint.Report report = context.getBean(SwitchboardEndpoint.class).report();
					assertThat(report.tenants()).singleElement()
							.isEqualTo(new SwitchboardEndpoint.TenantReport("acme", "main", "ACTIVE", 0));
					assertThat(report.datasources()).extracting(SwitchboardEndpoint.DataSourceReport::name)
							.containsExactly("main", "catalog");
				});
	}

	@Test
	void theJarDescribesTheDirectorySettings() throws Exception {
		String metadata = new String(getClass().getResourceAsStream("/META-INF/spring-configuration-metadata.json")
				.readAllBytes(), StandardCharsets.UTF_8);
		assertThat(metadata).contains("\"name\": \"switchboard.directory.source\"",
				"\"name\": \"switchboard.directory.table.datasource\"", "\"name\": \"switchboard.directory.table.name\"",
				"\"defaultValue\": \"switchboard_tenants\"", "\"name\": \"switchboard.directory.table.refresh-interval\"",
				"\"defaultValue\": \"30s\"", "the catalog datasource, one of");
	}

	private void assertFailsNaming(String key, String problem, String[] base, String... properties) {
		this.runner.withPropertyValues(base).withPropertyValues(properties).run(context -> {
			assertThat(context).hasFailed();
			Throwable failure = context.getStartupFailure();
			while (failure != null && !(failure instanceof SwitchboardConfigurationException)) {
				failure = failure.getCause();
			}
			assertThat(failure).as("a SwitchboardConfigurationException in %s", context.getStartupFailure())
					.isInstanceOf(SwitchboardConfigurationException.class)
					.hasMessageStartingWith(key)
					.hasMessageContaining(problem);
		});
	}

	@Configuration(proxyBeanMethods = false)
	static class Recording implements DirectoryListener {

		final List<String> events = new CopyOnWriteArrayList<>();

		@Bean
		MeterRegistry meterRegistry() {
			return new SimpleMeterRegistry();
		}

		@Override
		public void onboarded(TenantId tenant, Placement placement) {
			this.events.add("onboarded " + tenant + " on " + placement);
		}
	}

	@Configuration(proxyBeanMethods = false)
	static class Throwing {

		@Bean
		DirectoryListener throwing() {
			return new DirectoryListener() {
				@Override
				public void onboarded(TenantId tenant, Placement placement) {
					throw new IllegalStateException("listener bug");
				}
			};
		}
	}
}
