package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Six replicating database servers on 127.0.0.1, started from binaries that Maven Central ships:
 * a PostgreSQL primary with a streaming standby and a lagging standby, and a MariaDB primary with
 * a GTID replica and a lagging replica (the topology of {@code scripts/dev-db.sh}).
 *
 * <p>Everything lives under one folder, which {@link #close()} deletes after stopping every
 * server; a run that died without closing is cleaned up by the next run on the same folder
 * (see {@code RunFolder}). Unpacked binaries are kept between runs in a cache folder. The servers
 * are child processes of this JVM. PostgreSQL refuses to run as root: when this JVM runs as root,
 * PostgreSQL runs as the system user {@value #DEFAULT_OS_USER}, created on first use.
 *
 * <p>Linux on x86-64 only (the platforms both binary bundles share). Thread-safe.
 */
public final class EmbeddedTopology implements AutoCloseable {

	/** The database every server has. */
	public static final String DATABASE = "switchboard";

	/** The system user PostgreSQL runs as when this JVM runs as root, unless told otherwise. */
	public static final String DEFAULT_OS_USER = "switchboard-db";

	private static final Logger logger = LoggerFactory.getLogger(EmbeddedTopology.class);

	private final RunFolder folder;

	private final List<ServerProcess> servers;

	private EmbeddedTopology(RunFolder folder, List<ServerProcess> servers) {
		this.folder = folder;
		this.servers = servers;
	}

	/**
	 * Start describing a topology whose data lives in {@code folder}.
	 * @param folder the folder for this run's data, deleted on {@link #close()}
	 * @return a builder
	 */
	public static Builder builder(Path folder) {
		return new Builder(folder);
	}

	/**
	 * Return a folder for a run's data: in {@code /dev/shm} (memory) where there is one, else in
	 * {@code java.io.tmpdir}. On this machine's kind, under load, copying the data folders took
	 * 13 s on disk and 2 s in memory; the servers' data is throw-away anyway.
	 * @param name the folder's name, for example {@code switchboard-sample}
	 * @return the folder, which may not exist yet
	 */
	public static Path defaultFolder(String name) {
		Path memory = Path.of("/dev/shm");
		Path parent = Files.isDirectory(memory) && Files.isWritable(memory) ? memory
				: Path.of(System.getProperty("java.io.tmpdir"));
		return parent.resolve(name);
	}

	/**
	 * Stop the servers and delete the folders that dead runs left under {@code parent}, in folders
	 * whose names start with {@code prefix}; for callers that name each run's folder after its
	 * process. Folders of live runs are left alone.
	 * @param parent the folder that holds the runs' folders
	 * @param prefix the start of their names
	 */
	public static void cleanUpDeadRuns(Path parent, String prefix) {
		RunFolder.cleanUpDeadRuns(parent, prefix);
	}

	/**
	 * Return the servers, in the order primary, replica, lagging replica; PostgreSQL first.
	 * @return the servers
	 */
	public List<Server> servers() {
		return this.servers.stream().map(server -> new Server(server.name(), server.port())).toList();
	}

	/**
	 * Return a server by name.
	 * @param name for example {@code postgres-replica} or {@code mariadb-lagging}
	 * @return the server
	 * @throws IllegalArgumentException naming the servers there are, if there is none by that name
	 */
	public Server server(String name) {
		return new Server(name, process(name).port());
	}

	/**
	 * Stop a server as a crash would: PostgreSQL with an immediate shutdown, MariaDB with SIGKILL.
	 * @param name the server's name
	 */
	public void kill(String name) {
		process(name).kill();
		logger.info("{} killed", name);
	}

	/**
	 * Start a server that was killed; it recovers and catches up with its primary.
	 * @param name the server's name
	 */
	public void start(String name) {
		process(name).start();
	}

	/**
	 * Return whether a server runs.
	 * @param name the server's name
	 * @return {@code true} if its process is alive
	 */
	public boolean isRunning(String name) {
		return process(name).isRunning();
	}

	private ServerProcess process(String name) {
		return this.servers.stream()
			.filter(server -> server.name().equals(name))
			.findFirst()
			.orElseThrow(() -> new IllegalArgumentException("No embedded server '" + name + "'; there are "
					+ this.servers.stream().map(ServerProcess::name).toList()));
	}

	/**
	 * Stop every server cleanly (replicas first) and delete the folder. Idempotent.
	 */
	@Override
	public synchronized void close() {
		List<ServerProcess> replicasFirst = new ArrayList<>(this.servers);
		replicasFirst.sort((a, b) -> Boolean.compare(a.name().endsWith("-primary"), b.name().endsWith("-primary")));
		RuntimeException failure = null;
		for (ServerProcess server : replicasFirst) {
			try {
				server.stop();
			}
			catch (RuntimeException ex) {
				if (failure == null) {
					failure = ex;
				}
				else {
					failure.addSuppressed(ex);
				}
			}
		}
		this.folder.close();
		logger.info("Embedded databases stopped; {} deleted", this.folder.path());
		if (failure != null) {
			throw failure;
		}
	}

	/**
	 * One server.
	 * @param name its name, for example {@code postgres-primary}
	 * @param port its TCP port on 127.0.0.1
	 */
	public record Server(String name, int port) {

		/**
		 * Return {@code 127.0.0.1:port}.
		 * @return the address
		 */
		public String address() {
			return "127.0.0.1:" + this.port;
		}
	}

	/**
	 * Describes a topology: ports (0 picks a free one), the lagging replicas' delay, folders.
	 */
	public static final class Builder {

		private final Path folder;

		private List<Integer> postgresPorts = List.of(0, 0, 0);

		private List<Integer> mariadbPorts = List.of(0, 0, 0);

		private Duration delay = Duration.ofSeconds(2);

		private Path cache = Path.of(System.getProperty("java.io.tmpdir"), "switchboard-embedded-binaries");

		private String osUser = DEFAULT_OS_USER;

		private Builder(Path folder) {
			this.folder = Objects.requireNonNull(folder, "folder").toAbsolutePath();
		}

		/**
		 * Set the PostgreSQL ports: the primary's, the standby's and the lagging standby's.
		 * @param primary a port, or 0 for a free one
		 * @param replica a port, or 0 for a free one
		 * @param lagging a port, or 0 for a free one
		 * @return this builder
		 */
		public Builder postgresPorts(int primary, int replica, int lagging) {
			this.postgresPorts = ports("postgresPorts", primary, replica, lagging);
			return this;
		}

		/**
		 * Set the MariaDB ports: the primary's, the replica's and the lagging replica's.
		 * @param primary a port, or 0 for a free one
		 * @param replica a port, or 0 for a free one
		 * @param lagging a port, or 0 for a free one
		 * @return this builder
		 */
		public Builder mariadbPorts(int primary, int replica, int lagging) {
			this.mariadbPorts = ports("mariadbPorts", primary, replica, lagging);
			return this;
		}

		private static List<Integer> ports(String setting, int... ports) {
			for (int port : ports) {
				if (port < 0 || port > 65535) {
					throw new IllegalArgumentException(setting + " must be between 0 and 65535, was " + port);
				}
			}
			return List.of(ports[0], ports[1], ports[2]);
		}

		/**
		 * Set how late the lagging replicas apply changes; whole seconds (MariaDB's unit). 2 s by default.
		 * @param delay at least 1 s
		 * @return this builder
		 */
		public Builder replicationDelay(Duration delay) {
			if (delay.toMillis() < 1000 || delay.toMillis() % 1000 != 0) {
				throw new IllegalArgumentException("replicationDelay must be whole seconds, at least 1 s, was " + delay);
			}
			this.delay = delay;
			return this;
		}

		/**
		 * Set the folder that keeps unpacked binaries between runs; under {@code java.io.tmpdir} by default.
		 * @param cache the folder
		 * @return this builder
		 */
		public Builder binaryCache(Path cache) {
			this.cache = cache.toAbsolutePath();
			return this;
		}

		/**
		 * Set the system user PostgreSQL runs as when this JVM runs as root; {@value #DEFAULT_OS_USER} by default.
		 * @param name a user name
		 * @return this builder
		 */
		public Builder osUser(String name) {
			if (!name.matches("[a-z_][a-z0-9_-]{0,31}")) {
				throw new IllegalArgumentException("osUser must be a plain user name, was '" + name + "'");
			}
			this.osUser = name;
			return this;
		}

		/**
		 * Clean up after a dead run on the same folder, start all six servers (both engines at once),
		 * and wait until every replica has what its primary had at start. Logs a line per server.
		 * @return the running topology
		 * @throws IllegalStateException if a port is taken, a live run holds the folder, or a server
		 * does not start; servers already started are stopped and the folder deleted
		 */
		public EmbeddedTopology start() {
			long started = System.nanoTime();
			RunFolder run = RunFolder.take(this.folder);
			List<Integer> pg;
			List<Integer> maria;
			try {
				// After take(): the servers of a dead run, which it kills, may hold these very ports.
				pg = resolve(this.postgresPorts, "postgres");
				maria = resolve(this.mariadbPorts, "mariadb");
			}
			catch (RuntimeException ex) {
				run.close();
				throw ex;
			}
			PostgresServers postgres = new PostgresServers(cacheFolder(),
					run.path().resolve("postgres"), OsUser.forPostgres(this.osUser), pg, this.delay);
			MariaDbServers mariadb = new MariaDbServers(cacheFolder(), run.path().resolve("mariadb"),
					maria, this.delay);
			List<ServerProcess> all = new ArrayList<>(postgres.servers());
			all.addAll(mariadb.servers());
			EmbeddedTopology topology = new EmbeddedTopology(run, List.copyOf(all));
			try {
				Concurrently.run(postgres::start, mariadb::start);
			}
			catch (RuntimeException ex) {
				try {
					topology.close();
				}
				catch (RuntimeException closing) {
					ex.addSuppressed(closing);
				}
				throw ex;
			}
			logger.info("Embedded databases ready in {} ms under {}", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started),
					run.path());
			return topology;
		}

		private Path cacheFolder() {
			try {
				Files.createDirectories(this.cache);
				return this.cache;
			}
			catch (IOException ex) {
				throw new UncheckedIOException("could not create " + this.cache, ex);
			}
		}

		private static List<Integer> resolve(List<Integer> ports, String engine) {
			String[] roles = { "-primary", "-replica", "-lagging" };
			List<Integer> resolved = new ArrayList<>();
			for (int i = 0; i < 3; i++) {
				int port = ports.get(i) == 0 ? RunFolder.freePort() : ports.get(i);
				RunFolder.requireFree(port, engine + roles[i]);
				resolved.add(port);
			}
			return resolved;
		}
	}
}
