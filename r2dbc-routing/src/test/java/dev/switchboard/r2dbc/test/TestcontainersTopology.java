package dev.switchboard.r2dbc.test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.containers.wait.strategy.WaitAllStrategy;
import org.testcontainers.images.builder.Transferable;
import org.testcontainers.lifecycle.Startables;
import org.testcontainers.mariadb.MariaDBContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The {@link Topology} of {@code scripts/dev-db.sh}, run in Docker containers with Testcontainers.
 *
 * <p>Per engine a primary, a replica without delay and a replica with a 2 s apply delay, all
 * replicating for real over one shared {@link Network}. {@link DevDatabases} uses it only when no
 * other topology is available.
 */
final class TestcontainersTopology {

	private static final String POSTGRES_IMAGE = "postgres:15";

	private static final String MARIADB_IMAGE = "mariadb:10.11";

	private static final int DELAY_SECONDS = 2;

	private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);

	private static Topology topology;

	private TestcontainersTopology() {
	}

	/**
	 * Return whether a Docker engine answers.
	 *
	 * <p>Never throws: a missing engine, a broken configuration or Testcontainers failing to
	 * load all count as {@code false}. Without an engine it returns within about a second.
	 * @return {@code true} if Testcontainers can talk to a Docker engine
	 */
	static boolean isDockerAvailable() {
		try {
			return DockerClientFactory.instance().isDockerAvailable();
		}
		catch (Throwable ex) {
			return false;
		}
	}

	/**
	 * Start all six servers and wait until every replica replicates from its primary.
	 *
	 * <p>The containers are started on the first call only and are never stopped here:
	 * Testcontainers' Ryuk removes them when the JVM exits. Takes tens of seconds, more when the
	 * images must be pulled.
	 * @return the topology, with the host and mapped port of each server
	 * @throws RuntimeException if a container does not start or replication cannot be set up
	 */
	static synchronized Topology start() {
		if (topology == null) {
			Network network = Network.newNetwork();
			CompletableFuture<Topology.Engine> postgres = CompletableFuture.supplyAsync(() -> postgres(network));
			Topology.Engine mariadb = mariadb(network);
			topology = new Topology(postgres.join(), mariadb, "testcontainers");
		}
		return topology;
	}

	private static Topology.Engine postgres(Network network) {
		PostgreSQLContainer primary = new PostgreSQLContainer(POSTGRES_IMAGE).withDatabaseName(Topology.DATABASE)
			.withUsername("postgres")
			.withEnv("POSTGRES_HOST_AUTH_METHOD", "trust")
			.withCommand("postgres", "-c", "wal_level=replica", "-c", "max_wal_senders=10", "-c", "hot_standby=on",
					"-c", "fsync=off")
			// Init scripts run before the final server starts, so it reads this line without a reload.
			.withCopyToContainer(Transferable.of("echo 'host replication all all trust' >> \"$PGDATA/pg_hba.conf\"\n"),
					"/docker-entrypoint-initdb.d/replication.sh")
			.withNetwork(network)
			.withNetworkAliases("pg-primary");
		primary.start();
		GenericContainer<?> replica = postgresStandby(network, "");
		GenericContainer<?> lagging = postgresStandby(network, " -c recovery_min_apply_delay=" + DELAY_SECONDS + "s");
		Startables.deepStart(replica, lagging).join();
		return new Topology.Engine(Topology.Kind.POSTGRESQL, server(primary, 5432), server(replica, 5432),
				server(lagging, 5432));
	}

	private static GenericContainer<?> postgresStandby(Network network, String extraOptions) {
		// The image's entrypoint would run initdb; a standby must be a clone of the primary instead.
		String script = """
				until pg_basebackup -h pg-primary -U postgres -D "$PGDATA" -R -X stream --checkpoint=fast; do
					rm -rf "$PGDATA"/*; sleep 1
				done
				chmod 700 "$PGDATA"
				exec postgres -c hot_standby=on -c fsync=off""" + extraOptions;
		return new GenericContainer<>(POSTGRES_IMAGE).withNetwork(network)
			.withExposedPorts(5432)
			.withCreateContainerCmdModifier(cmd -> cmd.withUser("postgres").withEntrypoint("bash", "-c", script))
			// A standby accepts connections before its WAL receiver runs; callers expect both.
			.waitingFor(new WaitAllStrategy()
				.withStrategy(Wait.forLogMessage(".*ready to accept read-only connections.*", 1))
				.withStrategy(Wait.forLogMessage(".*started streaming WAL from primary.*", 1))
				.withStartupTimeout(STARTUP_TIMEOUT));
	}

	private static Topology.Engine mariadb(Network network) {
		MariaDBContainer primary = mariadbServer(network, "--log-bin=mysql-bin", "--server-id=1", "--binlog-format=ROW",
				"--gtid-strict-mode=ON")
			.withNetworkAliases("mariadb-primary");
		primary.start();
		// Written to the binlog, so the replicas, which replay it from the start, get the users too.
		// The same hosts as dev-db.sh, because Topology.Engine.createDatabase grants to all three.
		String users = "'switchboard'@'%', 'switchboard'@'localhost', 'switchboard'@'127.0.0.1'";
		sql(primary, "CREATE USER " + users + "; GRANT ALL ON " + Topology.DATABASE + ".* TO " + users + ";");
		MariaDBContainer replica = mariadbServer(network, "--server-id=2", "--read-only=ON");
		MariaDBContainer lagging = mariadbServer(network, "--server-id=3", "--read-only=ON");
		Startables.deepStart(replica, lagging).join();
		String position = sql(primary, "SELECT @@gtid_binlog_pos");
		replicate(replica, 0, position);
		replicate(lagging, DELAY_SECONDS, position);
		return new Topology.Engine(Topology.Kind.MARIADB, server(primary, 3306), server(replica, 3306),
				server(lagging, 3306));
	}

	private static MariaDBContainer mariadbServer(Network network, String... options) {
		return new MariaDBContainer(MARIADB_IMAGE).withDatabaseName(Topology.DATABASE)
			.withUsername("root")
			.withPassword("")
			.withEnv("MARIADB_ALLOW_EMPTY_ROOT_PASSWORD", "1")
			.withCommand(options)
			.withNetwork(network)
			.withStartupTimeout(STARTUP_TIMEOUT);
	}

	private static void replicate(MariaDBContainer replica, int delaySeconds, String primaryPosition) {
		sql(replica, "CHANGE MASTER TO MASTER_HOST='mariadb-primary', MASTER_USER='root', MASTER_PASSWORD='', "
				+ "MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1, MASTER_DELAY=" + delaySeconds + "; START SLAVE;");
		// Callers connect as 'switchboard' right away, and that user only exists once replicated.
		String result = sql(replica, "SELECT MASTER_GTID_WAIT('" + primaryPosition + "', 60)");
		if (!result.equals("0")) {
			throw new IllegalStateException("MariaDB replica did not catch up with the primary: "
					+ sql(replica, "SHOW SLAVE STATUS\\G"));
		}
	}

	private static String sql(GenericContainer<?> container, String statements) {
		try {
			ExecResult result = container.execInContainer("mariadb", "-uroot", "-N", "-B", "-e", statements);
			if (result.getExitCode() != 0) {
				throw new IllegalStateException("'" + statements + "' failed: " + result.getStderr());
			}
			return result.getStdout().strip();
		}
		catch (IOException ex) {
			throw new UncheckedIOException(ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted", ex);
		}
	}

	private static Topology.Server server(GenericContainer<?> container, int port) {
		return new Topology.Server(container.getHost(), container.getMappedPort(port));
	}
}
