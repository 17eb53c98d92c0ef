package dev.switchboard.spring;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What an operator reads when the application starts: one INFO line per datasource (its servers,
 * how many replicas, the pool sizes, the consistency mode) and a summary of datasources and
 * tenants; never a password, whether given apart or inside a URL. Over in-memory H2.
 */
@ExtendWith(OutputCaptureExtension.class)
class StartupLogTest {

	@Test
	void eachDataSourceIsOneInfoLineAndTheStartASummary(CapturedOutput output) {
		new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
				.withPropertyValues("switchboard.datasources.orders.primary=r2dbc:h2:mem:///startup-log-primary",
						"switchboard.datasources.orders.replicas[0]=r2dbc:h2:mem:///startup-log-replica",
						"switchboard.datasources.orders.username=sa",
						"switchboard.datasources.orders.password=hunter2-apart",
						"switchboard.datasources.orders.pool.initial-size=1",
						"switchboard.datasources.orders.pool.max-size=4",
						"switchboard.datasources.orders.pool.min-idle=2",
						"switchboard.datasources.orders.consistency=causal",
						"switchboard.datasources.orders.max-replication-lag=2s",
						"switchboard.datasources.billing.primary=r2dbc:h2:mem://sa:hunter2-in-url@localhost/startup-log-billing",
						"switchboard.tenants.acme.datasource=orders", "switchboard.tenants.initech.datasource=orders",
						"switchboard.tenants.globex.datasource=billing", "switchboard.default-tenant=acme")
				.run(context -> assertThat(context).hasNotFailed());
		assertThat(output.getOut())
				.containsPattern("INFO .*Switchboard datasource 'orders': primary h2://[^,]*/startup-log-primary, 1 replica\\(s\\) "
						+ "\\[h2://[^,]*/startup-log-replica\\], pools of 1-4 connections each \\(min-idle 2\\), consistency causal, "
						+ "max-replication-lag PT2S")
				.containsPattern("INFO .*Switchboard datasource 'billing': primary h2://[^,]*/startup-log-billing, 0 replica\\(s\\), "
						+ "pools of 0-10 connections each \\(min-idle 0\\), consistency pin")
				.containsPattern("INFO .*Switchboard: 2 datasource\\(s\\), 3 tenant\\(s\\) configured, default tenant 'acme', "
						+ "startup verify on")
				.doesNotContain("hunter2");
	}
}
