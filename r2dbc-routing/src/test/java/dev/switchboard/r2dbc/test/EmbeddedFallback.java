package dev.switchboard.r2dbc.test;

import java.nio.file.Path;

import dev.switchboard.embedded.EmbeddedTopology;

/**
 * The tests' last resort before the one-line failure: the replicated servers of module
 * {@code embedded-databases}, started in this JVM from binaries that Maven Central ships, so that a
 * machine with only a JDK runs the integration tests. Each JVM gets its own folder and free ports;
 * the servers stop when the JVM exits, and a JVM that was killed is cleaned up after by the next.
 */
final class EmbeddedFallback {

	private static final String PREFIX = "switchboard-it-";

	private EmbeddedFallback() {
	}

	/**
	 * Start a topology for this JVM, stopped by a shutdown hook.
	 * @param role {@code main} or {@code fault}, so that one JVM may have both
	 * @return the running topology
	 * @throws IllegalStateException if the servers cannot start here
	 */
	static EmbeddedTopology start(String role) {
		Path folder = EmbeddedTopology.defaultFolder(PREFIX + role + "-" + ProcessHandle.current().pid());
		EmbeddedTopology.cleanUpDeadRuns(folder.getParent(), PREFIX);
		EmbeddedTopology topology = EmbeddedTopology.builder(folder).start();
		Runtime.getRuntime().addShutdownHook(new Thread(topology::close, "embedded-databases-" + role));
		return topology;
	}

	/**
	 * Return a running embedded topology as the tests see one.
	 * @param embedded the servers
	 * @param source where the topology came from, for test reports
	 * @return the topology
	 */
	static Topology topology(EmbeddedTopology embedded, String source) {
		return new Topology(engine(embedded, Topology.Kind.POSTGRESQL, "postgres"),
				engine(embedded, Topology.Kind.MARIADB, "mariadb"), source);
	}

	private static Topology.Engine engine(EmbeddedTopology embedded, Topology.Kind kind, String prefix) {
		return new Topology.Engine(kind, server(embedded, prefix + "-primary"), server(embedded, prefix + "-replica"),
				server(embedded, prefix + "-lagging"));
	}

	private static Topology.Server server(EmbeddedTopology embedded, String name) {
		return new Topology.Server("127.0.0.1", embedded.server(name).port());
	}
}
