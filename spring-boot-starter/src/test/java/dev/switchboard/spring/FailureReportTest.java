package dev.switchboard.spring;

import java.util.List;
import java.util.Objects;

import org.jooq.SubscriberProvider;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Each setting that cannot work stops the start with a report, as Boot writes it, whose
 * description names the key or the datasource: analyzed by the failure analyzers registered in
 * {@code spring.factories}, in their order, the first that answers winning (as Boot's
 * {@code FailureAnalyzers} does), Boot's own among them.
 */
class FailureReportTest {

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
			.withPropertyValues("switchboard.datasources.main.primary=r2dbc:h2:mem:///failure-report",
					"switchboard.tenants.acme.datasource=main");

	@Test
	void aTypoInAKeyNamesTheKeyAndTheClosestValidOne() {
		assertReport(this.runner.withPropertyValues("switchboard.datasources.main.replcias[0]=r2dbc:h2:mem:///r",
						"switchboard.datasources.main.pool.max-sise=3", "switchboard.datasources.main.consistancy=causal",
						"switchboard.web.tenant-heder=X-Org", "switchboard.startup.verfy=false"),
				"switchboard.datasources.main.replcias[0]: did you mean switchboard.datasources.main.replicas?",
				"switchboard.datasources.main.pool.max-sise: did you mean switchboard.datasources.main.pool.max-size?",
				"switchboard.datasources.main.consistancy: did you mean switchboard.datasources.main.consistency?",
				"switchboard.web.tenant-heder: did you mean switchboard.web.tenant-header?",
				"switchboard.startup.verfy: did you mean switchboard.startup.verify?");
	}

	@Test
	void aKeyLikeNoSettingIsNamedWithoutASuggestion() {
		assertReport(this.runner.withPropertyValues("switchboard.colour=blue"),
				"switchboard.colour: no setting is close to it");
	}

	@Test
	void aTenantOfAMissingDataSourceNamesTheKeyAndTheDataSource() {
		assertReport(this.runner.withPropertyValues("switchboard.tenants.globex.datasource=nowhere"),
				"switchboard.tenants.globex.datasource names datasource 'nowhere', which is not configured");
	}

	@Test
	void anUnreachablePrimaryWithVerifyOnNamesTheDataSourceAndTheCause() {
		FailureAnalysis analysis = assertReport(
				this.runner.withPropertyValues("switchboard.datasources.pg.primary=r2dbc:postgresql://postgres@127.0.0.1:1/none",
						"switchboard.tenants.globex.datasource=pg", "switchboard.startup.timeout=5s"),
				"switchboard.datasources.pg.primary could not be reached at startup: pg: connection refused");
		assertThat(analysis.getDescription()).doesNotContain("main:");
		assertThat(analysis.getAction()).contains("switchboard.startup.verify=false");
	}

	@Test
	void anUnknownHostWithVerifyOnNamesTheDataSourceAndTheCause() {
		// Through the driver's own resolver (Netty's, for r2dbc-postgresql); .invalid never resolves
		// (RFC 6761). The timeout leaves room for a resolver that times out rather than answers.
		assertReport(this.runner.withPropertyValues(
						"switchboard.datasources.pg.primary=r2dbc:postgresql://postgres@no-such-host.invalid:5432/none",
						"switchboard.tenants.globex.datasource=pg", "switchboard.startup.timeout=30s"),
				"switchboard.datasources.pg.primary could not be reached at startup: pg: unknown host");
	}

	@Test
	void anUnreachablePrimaryWithVerifyOffStarts() {
		this.runner.withPropertyValues("switchboard.datasources.pg.primary=r2dbc:postgresql://postgres@127.0.0.1:1/none",
				"switchboard.tenants.globex.datasource=pg", "switchboard.startup.verify=false")
				.run(context -> assertThat(context).hasNotFailed());
	}

	@Test
	void aJooqWithoutSubscriberProviderNamesTheVersionAndTheFix() {
		FailureAnalysis analysis = assertReport(this.runner.withClassLoader(new FilteredClassLoader(SubscriberProvider.class)),
				"Switchboard needs jOOQ 3.20 or newer; your build has jOOQ " + org.jooq.Constants.FULL_VERSION
						+ ", which lacks org.jooq.SubscriberProvider");
		assertThat(analysis.getAction()).contains("<jooq.version>3.21.9</jooq.version>");
	}

	@Test
	void aNoClassDefFoundErrorOfJooqMetBeforeTheCheckIsReportedTheSameWay() {
		FailureAnalysis analysis = analyze(new IllegalStateException("context failed",
				new NoClassDefFoundError("org/jooq/SubscriberProvider")));
		assertThat(analysis.getDescription()).contains("lacks org.jooq.SubscriberProvider");
	}

	FailureAnalysis assertReport(ApplicationContextRunner runner, String... descriptions) {
		FailureAnalysis[] analysis = new FailureAnalysis[1];
		runner.run(context -> {
			assertThat(context).hasFailed();
			analysis[0] = analyze(context.getStartupFailure());
			assertThat(analysis[0]).as("a report of %s", context.getStartupFailure()).isNotNull();
			assertThat(analysis[0].getDescription()).contains(descriptions);
			assertThat(analysis[0].getAction()).isNotBlank();
		});
		return analysis[0];
	}

	static FailureAnalysis analyze(Throwable failure) {
		// Boot's analyzers that need constructor arguments are left out; the rest come in Boot's order.
		List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation(FailureReportTest.class.getClassLoader())
				.load(FailureAnalyzer.class, SpringFactoriesLoader.ArgumentResolver.none(),
						SpringFactoriesLoader.FailureHandler.handleMessage((message, ex) -> {
						}));
		assertThat(analyzers).hasAtLeastOneElementOfType(UnknownKeyFailureAnalyzer.class)
				.hasAtLeastOneElementOfType(SwitchboardFailureAnalyzer.class)
				.hasAtLeastOneElementOfType(JooqVersionFailureAnalyzer.class);
		return analyzers.stream().map(analyzer -> analyzer.analyze(failure)).filter(Objects::nonNull).findFirst().orElse(null);
	}
}
