package dev.switchboard.sample;

import java.nio.file.Path;
import java.time.Duration;

import dev.switchboard.embedded.EmbeddedTopology;
import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.context.ApplicationContextInitializer;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.ConfigurableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts the embedded PostgreSQL and MariaDB servers before any bean connects to them, when
 * {@code sample.embedded.enabled} is true (the {@code embedded} profile, the default).
 *
 * Without it, on the {@code h2} profile, it says that the demo shows no replication.
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
		Path folder = environment.getProperty(PREFIX + "folder", Path.class,
				EmbeddedTopology.defaultFolder("switchboard-sample"));
		EmbeddedTopology topology = EmbeddedTopology.builder(folder)
			.postgresPorts(port(environment, "postgres-primary"), port(environment, "postgres-replica"),
					port(environment, "postgres-lagging"))
			.mariadbPorts(port(environment, "mariadb-primary"), port(environment, "mariadb-replica"),
					port(environment, "mariadb-lagging"))
			.replicationDelay(environment.getProperty(PREFIX + "replication-delay", Duration.class, Duration.ofSeconds(2)))
			.start();
		DefaultListableBeanFactory beans = (DefaultListableBeanFactory) context.getBeanFactory();
		beans.registerSingleton(BEAN, topology);
		beans.registerDisposableBean(BEAN, topology::close);
	}

	private static int port(ConfigurableEnvironment environment, String server) {
		return environment.getRequiredProperty(PREFIX + "ports." + server, Integer.class);
	}
}
