package dev.switchboard.sample;

import java.nio.file.Path;
import java.time.Duration;

import dev.switchboard.api.Engine;
import dev.switchboard.embedded.EmbeddedTopology;
import dev.switchboard.r2dbc.TableTenantSource;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Starts the embedded PostgreSQL and MariaDB servers before any bean connects to them, when
 * {@code sample.embedded.enabled} is true (the {@code embedded} profile, the default).
 *
 * Without it, on the {@code h2} profile, it says that the demo shows no replication. Servers that do
 * not start stop the service with a report that names the cause and the way out, the H2 demo
 * among it ({@link EmbeddedDatabasesFailureAnalyzer}).
 *
 * <p>It also creates the tenant catalog table on the PostgreSQL primary, before the tenant
 * directory first reads it.
 *
 * <p>The topology is a singleton bean, {@code embeddedTopology}, registered before every other one
 * so that it is destroyed after them: the pools close first, then every server stops and its
 * folder is deleted. A run killed without closing is cleaned up by the next start on the same
 * folder.
 */
final class EmbeddedDatabases implements ApplicationContextInitializer<ConfigurableApplicationContext> {

	static final String BEAN = "embeddedTopology";

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedDatabases.class);

	private static final String PREFIX = "sample.embedded.";

	/** The catalog table's name, as application-embedded.yml gives it. */
	static final String CATALOG = "switchboard_tenants";

	@Override
	public void initialize(ConfigurableApplicationContext context) {
		ConfigurableEnvironment environment = context.getEnvironment();
		if (!environment.getProperty(PREFIX + "enabled", Boolean.class, false)) {
			if (environment.matchesProfiles("h2")) {
				logger.warn("The H2 demo topology: each replica is the same in-memory database opened again, so this "
						+ "shows the routing, not replication. Run without a profile for real PostgreSQL and MariaDB replicas.");
			}
			return;
		}
		// Read as a String: the environment has no converter to Path, so --sample.embedded.folder failed.
		String configured = environment.getProperty(PREFIX + "folder");
		Path folder = configured != null ? Path.of(configured) : EmbeddedTopology.defaultFolder("switchboard-sample");
		EmbeddedTopology.Builder builder = EmbeddedTopology.builder(folder)
			.postgresPorts(port(environment, "postgres-primary"), port(environment, "postgres-replica"),
					port(environment, "postgres-lagging"))
			.mariadbPorts(port(environment, "mariadb-primary"), port(environment, "mariadb-replica"),
					port(environment, "mariadb-lagging"))
			.replicationDelay(environment.getProperty(PREFIX + "replication-delay", Duration.class, Duration.ofSeconds(2)));
		EmbeddedTopology topology;
		try {
			topology = builder.start();
		}
		catch (RuntimeException ex) {
			// Reported with what to do, the H2 demo among it (EmbeddedDatabasesFailureAnalyzer).
			throw new EmbeddedDatabasesException(folder, ex);
		}
		createCatalog(topology);
		DefaultListableBeanFactory beans = (DefaultListableBeanFactory) context.getBeanFactory();
		beans.registerSingleton(BEAN, topology);
		beans.registerDisposableBean(BEAN, topology::close);
	}

	/**
	 * The tenant catalog ({@code switchboard.directory.table.*} of application-embedded.yml) on the
	 * PostgreSQL primary, with the trigger that wakes the directory on each change: created before
	 * the directory first reads it. Its rows add tenants to the two of application.yml.
	 */
	private static void createCatalog(EmbeddedTopology topology) {
		ConnectionFactory primary = ConnectionFactories.get(EmbeddedServersHandler.url(topology.server("postgres-primary")));
		Mono.usingWhen(Mono.from(primary.create()),
				connection -> Flux.from(connection.createStatement(TableTenantSource.ddl(Engine.POSTGRESQL, CATALOG)).execute())
						.flatMap(Result::getRowsUpdated).then(),
				Connection::close)
			.block(Duration.ofSeconds(30));
	}

	private static int port(ConfigurableEnvironment environment, String server) {
		return environment.getRequiredProperty(PREFIX + "ports." + server, Integer.class);
	}
}
