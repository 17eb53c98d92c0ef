package dev.switchboard.r2dbc.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.switchboard.embedded.EmbeddedTopology;
import org.jspecify.annotations.Nullable;

/**
 * The second topology of {@code scripts/dev-db.sh} ({@code --topology fault}: PostgreSQL
 * 55442-55444, MariaDB 53316-53318), which failover tests may stop hard and start again without
 * touching the servers the other tests use. Only the local script and the embedded servers can
 * stop and start servers, so there is no environment or Testcontainers alternative: when the tests
 * run on the embedded servers ({@link DevDatabases}), the fault topology is a second embedded one;
 * otherwise without the script's servers the tests fail and say how to get them.
 */
public final class FaultTopology {

	private static final List<Integer> PORTS = List.of(55442, 55443, 55444, 53316, 53317, 53318);

	private final Topology topology;

	private final @Nullable Path script;

	private final @Nullable EmbeddedTopology embedded;

	private static @Nullable FaultTopology embeddedFault;

	private FaultTopology(Topology topology, @Nullable Path script, @Nullable EmbeddedTopology embedded) {
		this.topology = topology;
		this.script = script;
		this.embedded = embedded;
	}

	/**
	 * Find the fault topology, started by {@code scripts/dev-db.sh --topology fault up}, and make
	 * sure all its servers run (a previous test may have left one stopped).
	 * @return the topology
	 * @throws IllegalStateException if the script or the servers cannot be found
	 */
	public static synchronized FaultTopology find() {
		if (DevDatabases.EMBEDDED.equals(DevDatabases.topology().source())) {
			if (embeddedFault == null) {
				EmbeddedTopology fault = EmbeddedFallback.start("fault");
				embeddedFault = new FaultTopology(EmbeddedFallback.topology(fault, "embedded fault"), null, fault);
			}
			embeddedFault.restore();
			return embeddedFault;
		}
		Path script = script();
		FaultTopology fault = new FaultTopology(new Topology(
				new Topology.Engine(Topology.Kind.POSTGRESQL, server(55442), server(55443), server(55444)),
				new Topology.Engine(Topology.Kind.MARIADB, server(53316), server(53317), server(53318)),
				"scripts/dev-db.sh --topology fault"), script, null);
		if (!PORTS.stream().allMatch(FaultTopology::answers)) {
			fault.run("up");
		}
		return fault;
	}

	private static Topology.Server server(int port) {
		return new Topology.Server("127.0.0.1", port);
	}

	private static Path script() {
		for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
			Path candidate = dir.resolve("scripts/dev-db.sh");
			if (Files.isRegularFile(candidate)) {
				return candidate;
			}
		}
		throw new IllegalStateException("scripts/dev-db.sh not found above " + Path.of("").toAbsolutePath()
				+ "; the failover tests need the fault topology: scripts/dev-db.sh --topology fault up");
	}

	private static boolean answers(int port) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", port), 500);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	/**
	 * Return the servers, as a {@link Topology}.
	 * @return the topology
	 */
	public Topology topology() {
		return this.topology;
	}

	/**
	 * Stop one server hard: PostgreSQL immediate shutdown, MariaDB {@code kill -9}.
	 * @param server a server of this topology
	 */
	public void kill(Topology.Server server) {
		if (this.embedded != null) {
			this.embedded.kill(embeddedName(server));
			return;
		}
		run("kill", String.valueOf(server.port()));
	}

	/**
	 * Start one server again and wait until it accepts connections and replicates.
	 * @param server a server of this topology
	 */
	public void start(Topology.Server server) {
		if (this.embedded != null) {
			this.embedded.start(embeddedName(server));
			return;
		}
		run("start", String.valueOf(server.port()));
	}

	/**
	 * Start every server that is not running, for the next test.
	 */
	public void restore() {
		if (this.embedded != null) {
			for (EmbeddedTopology.Server server : this.embedded.servers()) {
				this.embedded.start(server.name());
			}
			return;
		}
		run("up");
	}

	private String embeddedName(Topology.Server server) {
		return java.util.Objects.requireNonNull(this.embedded).servers().stream()
			.filter(candidate -> candidate.port() == server.port())
			.map(EmbeddedTopology.Server::name)
			.findFirst()
			.orElseThrow(() -> new IllegalArgumentException(server + " is not a server of the fault topology"));
	}

	private void run(String... arguments) {
		List<String> command = new java.util.ArrayList<>(List.of("bash", String.valueOf(this.script), "--topology", "fault"));
		command.addAll(List.of(arguments));
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			byte[] output = process.getInputStream().readAllBytes();
			if (!process.waitFor(120, TimeUnit.SECONDS) || process.exitValue() != 0) {
				throw new IllegalStateException(String.join(" ", command) + " failed:\n"
						+ new String(output, StandardCharsets.UTF_8));
			}
		}
		catch (IOException ex) {
			throw new IllegalStateException("could not run " + String.join(" ", command), ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while running " + String.join(" ", command), ex);
		}
	}
}
