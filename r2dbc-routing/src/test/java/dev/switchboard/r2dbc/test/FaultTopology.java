package dev.switchboard.r2dbc.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The second topology of {@code scripts/dev-db.sh} ({@code --topology fault}: PostgreSQL
 * 55442-55444, MariaDB 53316-53318), which failover tests may stop hard and start again without
 * touching the servers the other tests use. Only the local script can stop and start servers, so
 * there is no environment or Testcontainers alternative: without it the tests fail and say how to
 * get it.
 */
public final class FaultTopology {

	private static final List<Integer> PORTS = List.of(55442, 55443, 55444, 53316, 53317, 53318);

	private final Topology topology;

	private final Path script;

	private FaultTopology(Topology topology, Path script) {
		this.topology = topology;
		this.script = script;
	}

	/**
	 * Find the fault topology, started by {@code scripts/dev-db.sh --topology fault up}, and make
	 * sure all its servers run (a previous test may have left one stopped).
	 * @return the topology
	 * @throws IllegalStateException if the script or the servers cannot be found
	 */
	public static FaultTopology find() {
		Path script = script();
		FaultTopology fault = new FaultTopology(new Topology(
				new Topology.Engine(Topology.Kind.POSTGRESQL, server(55442), server(55443), server(55444)),
				new Topology.Engine(Topology.Kind.MARIADB, server(53316), server(53317), server(53318)),
				"scripts/dev-db.sh --topology fault"), script);
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
		run("kill", String.valueOf(server.port()));
	}

	/**
	 * Start one server again and wait until it accepts connections and replicates.
	 * @param server a server of this topology
	 */
	public void start(Topology.Server server) {
		run("start", String.valueOf(server.port()));
	}

	/**
	 * Start every server that is not running, for the next test.
	 */
	public void restore() {
		run("up");
	}

	private void run(String... arguments) {
		List<String> command = new java.util.ArrayList<>(List.of("bash", this.script.toString(), "--topology", "fault"));
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
