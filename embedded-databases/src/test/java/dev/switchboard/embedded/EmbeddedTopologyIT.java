package dev.switchboard.embedded;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Starts the embedded topology for real and checks it from outside, with plain JDBC: replication
 * on both engines, the lagging replicas' delay, a killed replica coming back, nothing left after
 * {@code close()}, and a run whose JVM was killed cleaned up by the next one on the same folder
 * and ports.
 */
class EmbeddedTopologyIT {

	// Not @TempDir: its folder is private to root, and PostgreSQL runs as another user when root runs the tests.
	private final Path temp = EmbeddedTopology.defaultFolder("switchboard-embedded-it-" + ProcessHandle.current().pid());

	@AfterEach
	void deleteTheTestsFolder() throws IOException {
		Files.deleteIfExists(this.temp);
	}

	@Test
	void replicatesOnBothEnginesLagsWhereToldAndLeavesNothingBehind() throws Exception {
		Path folder = this.temp.resolve("run");
		EmbeddedTopology topology = EmbeddedTopology.builder(folder).replicationDelay(Duration.ofSeconds(2)).start();
		List<EmbeddedTopology.Server> servers = topology.servers();
		try {
			for (String engine : List.of("postgres", "mariadb")) {
				String primary = url(topology.server(engine + "-primary"));
				String replica = url(topology.server(engine + "-replica"));
				String lagging = url(topology.server(engine + "-lagging"));
				execute(primary, "CREATE TABLE embedded_it (id INT PRIMARY KEY)");
				awaitCount(lagging, "SELECT count(*) FROM embedded_it", 0);
				execute(primary, "INSERT INTO embedded_it VALUES (1)");
				// The control: right after the write, the lagging replica does not have it.
				assertThat(count(lagging, "SELECT count(*) FROM embedded_it")).as(engine + "-lagging right after").isZero();
				awaitCount(replica, "SELECT count(*) FROM embedded_it", 1);
				awaitCount(lagging, "SELECT count(*) FROM embedded_it", 1);

				topology.kill(engine + "-replica");
				assertThat(answers(topology.server(engine + "-replica"))).as(engine + "-replica killed").isFalse();
				execute(primary, "INSERT INTO embedded_it VALUES (2)");
				topology.start(engine + "-replica");
				awaitCount(replica, "SELECT count(*) FROM embedded_it", 2);
			}
		}
		finally {
			topology.close();
		}
		assertThat(folder).doesNotExist();
		for (EmbeddedTopology.Server server : servers) {
			assertThat(answers(server)).as(server.name() + " after close").isFalse();
		}
		assertThat(ProcessHandle.allProcesses()
			.filter(process -> process.info().commandLine().orElse("").contains(folder.toString()))).isEmpty();
	}

	@Test
	void aRunWhoseJvmWasKilledIsCleanedUpByTheNext() throws Exception {
		Path folder = this.temp.resolve("crashed");
		String java = ProcessHandle.current().info().command().orElseThrow();
		Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), StartAndWait.class.getName(),
				folder.toString())
			.redirectErrorStream(true)
			.start();
		List<Integer> ports;
		try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
			StringBuilder output = new StringBuilder();
			String line;
			do {
				line = out.readLine();
				output.append(line).append('\n');
			}
			while (line != null && !line.startsWith(StartAndWait.READY));
			// Its output says why, if it did not (a run of this class once failed here with nothing to go on).
			assertThat(line).as("the child's topology started; its output:%n%s", output).isNotNull();
			ports = Arrays.stream(line.substring(StartAndWait.READY.length()).strip().split(","))
				.map(Integer::valueOf)
				.toList();
			child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
		}
		// The control: the servers outlive a killed JVM, so the next run has something to clean.
		assertThat(answers(new EmbeddedTopology.Server("postgres-primary", ports.get(0)))).isTrue();
		assertThat(folder).exists();

		EmbeddedTopology next = EmbeddedTopology.builder(folder)
			.postgresPorts(ports.get(0), ports.get(1), ports.get(2))
			.mariadbPorts(ports.get(3), ports.get(4), ports.get(5))
			.start();
		try {
			execute(url(next.server("postgres-primary")), "CREATE TABLE embedded_crash_it (id INT)");
			execute(url(next.server("mariadb-primary")), "CREATE TABLE embedded_crash_it (id INT)");
		}
		finally {
			next.close();
		}
		assertThat(folder).doesNotExist();
	}

	/** Starts a topology in a JVM of its own and waits to be killed. */
	static final class StartAndWait {

		static final String READY = "TOPOLOGY READY ";

		public static void main(String[] args) throws InterruptedException {
			EmbeddedTopology topology = EmbeddedTopology.builder(Path.of(args[0])).start();
			System.out.println(READY + String.join(",",
					topology.servers().stream().map(server -> Integer.toString(server.port())).toList()));
			System.out.flush();
			Thread.sleep(Long.MAX_VALUE);
		}
	}

	static String url(EmbeddedTopology.Server server) {
		return server.name().startsWith("postgres")
				? "jdbc:postgresql://" + server.address() + "/" + EmbeddedTopology.DATABASE + "?user=postgres"
				: "jdbc:mariadb://" + server.address() + "/" + EmbeddedTopology.DATABASE + "?user=root";
	}

	static void execute(String url, String sql) throws SQLException {
		try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement()) {
			statement.execute(sql);
		}
	}

	static long count(String url, String sql) throws SQLException {
		try (Connection connection = DriverManager.getConnection(url); Statement statement = connection.createStatement();
				ResultSet rows = statement.executeQuery(sql)) {
			rows.next();
			return rows.getLong(1);
		}
	}

	static void awaitCount(String url, String sql, long expected) throws InterruptedException {
		long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
		Object last = null;
		while (System.nanoTime() < deadline) {
			try {
				long count = count(url, sql);
				if (count == expected) {
					return;
				}
				last = count;
			}
			catch (SQLException ex) {
				last = ex.getMessage();
			}
			Thread.sleep(100);
		}
		throw new AssertionError(url + ": " + sql + " did not give " + expected + " in 20 s; last: " + last);
	}

	static boolean answers(EmbeddedTopology.Server server) {
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 500);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

}
