package dev.switchboard.r2dbc.test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that hands integration tests the {@link Topology} they run against.
 *
 * <p>The topology is found once per JVM, in this order:
 * <ol>
 * <li>environment variables {@code SWITCHBOARD_PG_PRIMARY}, {@code SWITCHBOARD_PG_REPLICA},
 * {@code SWITCHBOARD_PG_LAGGING}, {@code SWITCHBOARD_MARIADB_PRIMARY},
 * {@code SWITCHBOARD_MARIADB_REPLICA}, {@code SWITCHBOARD_MARIADB_LAGGING}, each
 * {@code host:port} (all six, or none);</li>
 * <li>the local topology of {@code scripts/dev-db.sh} (ports 55432-55434 and 53306-53308), when
 * all six ports answer;</li>
 * <li>Testcontainers, when a Docker engine is available;</li>
 * <li>the embedded servers of module {@code embedded-databases} ({@link EmbeddedFallback}), started
 * in this JVM from binaries on Maven Central: a machine with only a JDK runs the tests;</li>
 * <li>otherwise every test fails with one line saying how to get a database. It never skips.</li>
 * </ol>
 * {@code SWITCHBOARD_TEST_DATABASES=embedded} goes straight to the embedded servers.
 */
public final class DevDatabases implements BeforeAllCallback, ParameterResolver {

	static final String HOW_TO = "No test databases: run `scripts/dev-db.sh up` (it installs and starts "
			+ "PostgreSQL and MariaDB primaries and replicas on ports 55432-55434 and 53306-53308), "
			+ "or set SWITCHBOARD_{PG,MARIADB}_{PRIMARY,REPLICA,LAGGING}=host:port, or start Docker for Testcontainers; "
			+ "the embedded servers (Linux x86-64) failed too: ";

	/** The {@link Topology#source()} of the {@code scripts/dev-db.sh} servers. */
	static final String DEV_DB = "scripts/dev-db.sh";

	/** The {@link Topology#source()} of the embedded servers, and the value of {@link #CHOICE} that asks for them. */
	static final String EMBEDDED = "embedded";

	private static final String CHOICE = "SWITCHBOARD_TEST_DATABASES";

	private static final List<String> VARIABLES = List.of("SWITCHBOARD_PG_PRIMARY", "SWITCHBOARD_PG_REPLICA",
			"SWITCHBOARD_PG_LAGGING", "SWITCHBOARD_MARIADB_PRIMARY", "SWITCHBOARD_MARIADB_REPLICA",
			"SWITCHBOARD_MARIADB_LAGGING");

	private static final List<String> LOCAL = List.of("127.0.0.1:55432", "127.0.0.1:55433", "127.0.0.1:55434",
			"127.0.0.1:53306", "127.0.0.1:53307", "127.0.0.1:53308");

	private static Topology topology;

	private static RuntimeException failure;

	/**
	 * Return the topology, finding it on first use.
	 * @return the topology
	 * @throws IllegalStateException with instructions when no database can be had
	 */
	public static synchronized Topology topology() {
		if (topology == null && failure == null) {
			try {
				topology = find(System.getenv());
			}
			catch (RuntimeException ex) {
				failure = ex;
			}
		}
		if (failure != null) {
			throw failure;
		}
		return topology;
	}

	static Topology find(Map<String, String> environment) {
		long set = VARIABLES.stream().filter(environment::containsKey).count();
		if (set == VARIABLES.size()) {
			return fromAddresses(VARIABLES.stream().map(environment::get).toList(), "environment");
		}
		if (set != 0) {
			throw new IllegalStateException("Set all of " + VARIABLES + " or none; " + set + " are set.");
		}
		boolean embeddedOnly = EMBEDDED.equals(environment.get(CHOICE));
		if (!embeddedOnly && LOCAL.stream().allMatch(DevDatabases::answers)) {
			return fromAddresses(LOCAL, DEV_DB);
		}
		if (!embeddedOnly && TestcontainersTopology.isDockerAvailable()) {
			return TestcontainersTopology.start();
		}
		try {
			return EmbeddedFallback.topology(EmbeddedFallback.start("main"), EMBEDDED);
		}
		catch (RuntimeException ex) {
			// One line; the cause carries the rest (a server's log, say).
			throw new IllegalStateException(HOW_TO + String.valueOf(ex.getMessage()).lines().findFirst().orElse(""), ex);
		}
	}

	private static Topology fromAddresses(List<String> addresses, String source) {
		Topology.Engine postgres = new Topology.Engine(Topology.Kind.POSTGRESQL, Topology.Server.parse(addresses.get(0)),
				Topology.Server.parse(addresses.get(1)), Topology.Server.parse(addresses.get(2)));
		Topology.Engine mariadb = new Topology.Engine(Topology.Kind.MARIADB, Topology.Server.parse(addresses.get(3)),
				Topology.Server.parse(addresses.get(4)), Topology.Server.parse(addresses.get(5)));
		return new Topology(postgres, mariadb, source);
	}

	private static boolean answers(String address) {
		Topology.Server server = Topology.Server.parse(address);
		try (Socket socket = new Socket()) {
			socket.connect(new InetSocketAddress(server.host(), server.port()), 500);
			return true;
		}
		catch (IOException ex) {
			return false;
		}
	}

	@Override
	public void beforeAll(ExtensionContext context) {
		topology();
	}

	@Override
	public boolean supportsParameter(ParameterContext parameter, ExtensionContext extension) {
		return parameter.getParameter().getType() == Topology.class;
	}

	@Override
	public Object resolveParameter(ParameterContext parameter, ExtensionContext extension) {
		return topology();
	}
}
