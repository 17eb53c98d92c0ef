package dev.switchboard.spring;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code switchboard.startup.verify} against the real servers: a primary that cannot be had stops
 * the start with a report naming the datasource and why, in an operator's words; credentials
 * given apart from the URL reach the server whole, {@code @}, {@code /} and {@code #} included.
 */
class StartupCheckIT {

	/** A user of this test's own, whose password a URL could not carry unencoded. */
	static final String USER = "sb_i16_startup";

	static final String PASSWORD = "p@ss/w0rd#1";

	static Topology.Engine mariadb;

	static Topology.Engine postgres;

	final ApplicationContextRunner runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
			.withPropertyValues("switchboard.tenants.acme.datasource=main", "switchboard.startup.timeout=5s");

	@BeforeAll
	static void createUser() {
		Topology topology = DevDatabases.topology();
		mariadb = topology.mariadb();
		postgres = topology.postgres();
		ConnectionFactory admin = mariadb.adminConnectionFactory();
		Sql.execute(admin, "CREATE USER IF NOT EXISTS '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'");
		Sql.execute(admin, "ALTER USER '" + USER + "'@'%' IDENTIFIED BY '" + PASSWORD + "'");
		Sql.execute(admin, "GRANT SELECT ON " + Topology.DATABASE + ".* TO '" + USER + "'@'%'");
	}

	String mariadbUrl() {
		return "r2dbc:mysql://" + mariadb.primary() + "/" + Topology.DATABASE + "?sslMode=DISABLED";
	}

	@Test
	void aPasswordWithAtSlashAndHashSetApartFromTheUrlConnects() {
		this.runner.withPropertyValues("switchboard.datasources.main.primary=" + mariadbUrl(),
				"switchboard.datasources.main.dialect=MARIADB",
				"switchboard.datasources.main.username=" + USER, "switchboard.datasources.main.password=" + PASSWORD)
				.run(context -> assertThat(context).hasNotFailed());
	}

	@Test
	void aWrongPasswordIsAnAuthenticationFailureOfTheDataSource() {
		assertReport(this.runner.withPropertyValues("switchboard.datasources.main.primary=" + mariadbUrl(),
						"switchboard.datasources.main.dialect=MARIADB",
						"switchboard.datasources.main.username=" + USER, "switchboard.datasources.main.password=wrong"),
				"switchboard.datasources.main.primary could not be reached at startup: main: authentication failed");
	}

	@Test
	void aMissingDatabaseIsNamedSo() {
		assertReport(this.runner.withPropertyValues("switchboard.datasources.main.primary="
						+ postgres.url(postgres.primary(), "sb_i16_no_such_database")),
				"switchboard.datasources.main.primary could not be reached at startup: main: database does not exist");
	}

	@Test
	void reachablePrimariesStart() {
		this.runner.withPropertyValues("switchboard.datasources.main.primary=" + postgres.url(postgres.primary()))
				.run(context -> assertThat(context).hasNotFailed());
	}

	static void assertReport(ApplicationContextRunner runner, String description) {
		runner.run(context -> {
			assertThat(context).hasFailed();
			FailureAnalysis analysis = FailureReportTest.analyze(context.getStartupFailure());
			assertThat(analysis).as("a report of %s", context.getStartupFailure()).isNotNull();
			assertThat(analysis.getDescription()).contains(description);
		});
	}
}
