package dev.switchboard.spring;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/** The application's rotating passwords, as the starter takes them; no server is contacted. */
class SwitchboardCredentialsTest {

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
			.withPropertyValues(SwitchboardAutoConfigurationTest.NO_VERIFY, "switchboard.tenants.acme.datasource=main");

	final AtomicInteger asked = new AtomicInteger();

	SwitchboardCredentials rotating() {
		return dataSource -> "pw-" + dataSource + "-" + this.asked.incrementAndGet();
	}

	@Test
	void aSuppliedDataSourceStartsWithoutAskingForAPassword() {
		this.runner.withBean(SwitchboardCredentials.class, this::rotating)
				.withPropertyValues("switchboard.datasources.main.primary=r2dbc:postgresql://127.0.0.1:1/orders",
						"switchboard.datasources.main.replicas[0]=r2dbc:mysql://127.0.0.1:1/orders",
						"switchboard.datasources.main.username=app", "switchboard.datasources.main.dialect=postgres")
				.run(context -> {
					assertThat(context).hasNotFailed();
					assertThat(this.asked).as("asked only for a new connection").hasValue(0);
				});
	}

	@Test
	void aPasswordInTheConfigurationAndFromTheBeanIsRefusedNamingTheKey() {
		this.runner.withBean(SwitchboardCredentials.class, this::rotating)
				.withPropertyValues("switchboard.datasources.main.primary=r2dbc:postgresql://127.0.0.1:1/orders",
						"switchboard.datasources.main.password=hunter2")
				.run(context -> assertFailure(context.getStartupFailure(), "switchboard.datasources.main.password",
						"SwitchboardCredentials"));
	}

	@Test
	void aDriverThatCannotAskPerConnectionIsRefusedNamingThePasswordKey() {
		this.runner.withBean(SwitchboardCredentials.class, this::rotating)
				.withPropertyValues("switchboard.datasources.main.primary=r2dbc:h2:mem:///credentials")
				.run(context -> assertFailure(context.getStartupFailure(), "switchboard.datasources.main.password",
						"'h2'"));
	}

	@Test
	void aDataSourceTheBeanDoesNotSupplyKeepsItsConfiguredPassword() {
		SwitchboardCredentials onlyOthers = new SwitchboardCredentials() {
			@Override
			public boolean suppliesPassword(String dataSource) {
				return !dataSource.equals("main");
			}

			@Override
			public CharSequence password(String dataSource) {
				throw new AssertionError("not asked for " + dataSource);
			}
		};
		this.runner.withBean(SwitchboardCredentials.class, () -> onlyOthers)
				.withPropertyValues("switchboard.datasources.main.primary=r2dbc:h2:mem:///credentials-kept",
						"switchboard.datasources.main.username=sa", "switchboard.datasources.main.password=")
				.run(context -> assertThat(context).hasNotFailed());
	}

	@Test
	void thePropertiesNeverShowThePassword() {
		SwitchboardProperties.DataSourceProperties properties = new SwitchboardProperties.DataSourceProperties(
				"r2dbc:postgresql://db1/orders", null, "app", "hunter2", null, null, null, null, null, null, true);

		assertThat(properties.toString()).contains("username=app").contains("password=****").doesNotContain("hunter2");
	}

	static void assertFailure(Throwable failure, String key, String problem) {
		Throwable found = failure;
		while (found != null && !(found instanceof SwitchboardConfigurationException)) {
			found = found.getCause();
		}
		assertThat(found).as("a SwitchboardConfigurationException in %s", failure)
				.isInstanceOf(SwitchboardConfigurationException.class)
				.hasMessageStartingWith(key).hasMessageContaining(problem).hasMessageNotContaining("hunter2");
	}
}
