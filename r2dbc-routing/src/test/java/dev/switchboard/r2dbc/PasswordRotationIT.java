package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.R2dbcException;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

/**
 * A password rotated on the server and in the application's supplier reaches new connections
 * without a restart. Each run creates its own login role, rotates its password with the server's
 * own statement, and counts the supplier's calls and the role's sessions in the server's views
 * ({@code pg_stat_activity}, {@code information_schema.processlist}), not in Switchboard's state.
 *
 * <p>On PostgreSQL the role joins {@code switchboard_password_login}, the group that
 * {@code scripts/dev-db.sh up} makes log in with a password (everyone else is trusted on loopback);
 * the test first proves that the server refuses a wrong password, else nothing would be shown.
 */
@ExtendWith(DevDatabases.class)
class PasswordRotationIT {

	private static final Duration TIMEOUT = Duration.ofSeconds(30);

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void newConnectionsAuthenticateWithTheRotatedPasswordWithoutARestart(Topology.Kind kind, Topology topology) {
		Topology.Engine engine = topology.engine(kind);
		Roles roles = new Roles(engine);
		String role = "sb_rot_" + UUID.randomUUID().toString().substring(0, 8);
		String oldPassword = "old-" + UUID.randomUUID();
		String newPassword = "new-" + UUID.randomUUID();
		roles.create(role, oldPassword);
		try {
			assertThatThrownBy(() -> connect(engine, engine.primary(), role, "wrong"))
					.as("the server must refuse a wrong password for %s; on PostgreSQL run scripts/dev-db.sh up, which "
							+ "makes the members of switchboard_password_login log in with a password", role)
					.isInstanceOf(R2dbcException.class);
			// Roles replicate from the primary on both engines: the replica knows the role.
			Await.until(Duration.ofSeconds(20), () -> canConnect(engine, engine.replica(), role, oldPassword));

			AtomicReference<String> current = new AtomicReference<>(oldPassword);
			AtomicInteger asked = new AtomicInteger();
			String name = "rot-" + engine.tag();
			ReplicatedDataSource dataSource = ReplicatedDataSource.builder(name)
					.primary(engine.url(engine.primary()))
					.replica(engine.url(engine.replica()))
					.username(role)
					.password(() -> {
						asked.incrementAndGet();
						return current.get();
					})
					.pool(pool -> pool.initialSize(0).maxSize(8).maxAcquireTime(Duration.ofSeconds(10)))
					.build();
			try (RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
					.dataSource(dataSource).tenant("rotating", name).build())) {
				List<Connection> before = open(routing, AccessIntent.WRITE, 3, role);
				assertThat(asked).as("supplier calls for 3 new connections").hasValue(3);
				assertThat(roles.sessions(engine.primary(), role)).as("sessions of %s on the primary", role).isEqualTo(3);

				roles.rotate(role, newPassword);
				assertThatThrownBy(() -> connect(engine, engine.primary(), role, oldPassword))
						.as("the old password, outside Switchboard").isInstanceOf(R2dbcException.class);
				assertThatThrownBy(() -> open(routing, AccessIntent.WRITE, 1, role))
						.as("a new connection while the supplier still gives the old password")
						.isInstanceOfSatisfying(DataError.class, error -> {
							assertThat(error.kind()).isEqualTo(DataError.Kind.PERMANENT);
							assertThat(error.sqlState()).isEqualTo(kind == Topology.Kind.POSTGRESQL ? "28P01" : "28000");
							assertThat(error.getMessage()).contains(name).doesNotContain(oldPassword);
						});
				// Two logins refused, each asked once: r2dbc-pool tries a failed acquire once more (acquireRetry 1).
				assertThat(asked).hasValue(5);
				assertThat(roles.sessions(engine.primary(), role)).isEqualTo(3);

				current.set(newPassword);
				List<Connection> after = open(routing, AccessIntent.WRITE, 3, role);
				assertThat(asked).as("supplier calls after the rotation").hasValue(8);
				assertThat(roles.sessions(engine.primary(), role)).as("old and new sessions on the primary").isEqualTo(6);
				assertThat(whoAmI(before.get(0)).block(TIMEOUT)).as("an open connection outlives the rotation")
						.isEqualTo(role);

				Await.until(Duration.ofSeconds(20), () -> canConnect(engine, engine.replica(), role, newPassword));
				List<Connection> read = open(routing, AccessIntent.READ, 1, role);
				assertThat(asked).as("supplier calls after a read on the replica").hasValue(9);
				assertThat(roles.sessions(engine.replica(), role)).as("sessions of %s on the replica", role).isEqualTo(1);
				System.out.printf("%s: supplier asked %d times for 7 sessions opened and 2 logins refused; "
						+ "sessions: primary %d, replica %d%n", kind, asked.get(), roles.sessions(engine.primary(), role),
						roles.sessions(engine.replica(), role));

				Flux.fromStream(java.util.stream.Stream.of(before, after, read).flatMap(List::stream)).concatMap(Connection::close).then().block(TIMEOUT);
			}
			Await.until(Duration.ofSeconds(10), () -> roles.sessions(engine.primary(), role) == 0
					&& roles.sessions(engine.replica(), role) == 0);
		}
		finally {
			roles.drop(role);
		}
	}

	/** Open {@code count} routed connections at once and prove each is logged in as {@code role}. */
	private static List<Connection> open(RoutingConnectionFactory routing, AccessIntent intent, int count, String role) {
		List<Connection> connections = new ArrayList<>();
		try {
			Flux.range(0, count)
					.flatMap(i -> Mono.from(routing.create())
							.doOnNext(connections::add)
							.flatMap(PasswordRotationIT::whoAmI)
							.contextWrite(RoutingContext.intent(intent))
							.contextWrite(RoutingContext.forTenant("rotating")))
					.doOnNext(user -> assertThat(user).isEqualTo(role))
					.then().block(TIMEOUT);
			return connections;
		}
		catch (RuntimeException ex) {
			Flux.fromIterable(connections).concatMap(Connection::close).then().block(TIMEOUT);
			throw ex;
		}
	}

	private static Mono<String> whoAmI(Connection connection) {
		boolean postgresql = connection.getMetadata().getDatabaseProductName().contains("PostgreSQL");
		String sql = postgresql ? "SELECT current_user AS who" : "SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS who";
		return Flux.from(connection.createStatement(sql).execute())
				.concatMap(result -> result.map(row -> String.valueOf(row.get("who"))))
				.single();
	}

	private static boolean canConnect(Topology.Engine engine, Topology.Server server, String user, String password) {
		try {
			connect(engine, server, user, password);
			return true;
		}
		catch (R2dbcException ex) {
			return false;
		}
	}

	/** Connect with the driver alone, outside Switchboard, and run one statement. */
	private static void connect(Topology.Engine engine, Topology.Server server, String user, String password) {
		ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(engine.url(server)).mutate()
				.option(ConnectionFactoryOptions.USER, user)
				.option(ConnectionFactoryOptions.PASSWORD, password)
				.build();
		ConnectionFactory factory = ConnectionFactories.get(options);
		Sql.query(factory, "SELECT 1");
	}

	/** Login roles created, rotated, counted and dropped with the engine's own statements, as its administrator. */
	private record Roles(Topology.Engine engine) {

		private static final String[] MARIADB_HOSTS = { "%", "localhost", "127.0.0.1" };

		void create(String role, String password) {
			if (postgresql()) {
				admin("CREATE ROLE " + role + " LOGIN PASSWORD '" + password + "' IN ROLE switchboard_password_login");
				return;
			}
			for (String host : MARIADB_HOSTS) {
				admin("CREATE USER '" + role + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
				admin("GRANT SELECT ON " + Topology.DATABASE + ".* TO '" + role + "'@'" + host + "'");
			}
		}

		void rotate(String role, String password) {
			if (postgresql()) {
				admin("ALTER ROLE " + role + " PASSWORD '" + password + "'");
				return;
			}
			for (String host : MARIADB_HOSTS) {
				admin("ALTER USER '" + role + "'@'" + host + "' IDENTIFIED BY '" + password + "'");
			}
		}

		long sessions(Topology.Server server, String role) {
			String sql = postgresql() ? "SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1"
					: "SELECT COUNT(*) AS n FROM information_schema.processlist WHERE user = ?";
			return ((Number) Sql.query(adminOn(server), sql, role).get(0).get("n")).longValue();
		}

		void drop(String role) {
			if (postgresql()) {
				Sql.query(adminOn(this.engine.primary()),
						"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role);
				admin("DROP ROLE IF EXISTS " + role);
				return;
			}
			for (String host : MARIADB_HOSTS) {
				admin("DROP USER IF EXISTS '" + role + "'@'" + host + "'");
			}
		}

		private boolean postgresql() {
			return this.engine.kind() == Topology.Kind.POSTGRESQL;
		}

		private void admin(String sql) {
			Sql.execute(this.engine.adminConnectionFactory(), sql);
		}

		private ConnectionFactory adminOn(Topology.Server server) {
			return ConnectionFactories.get(postgresql()
					? "r2dbc:postgresql://postgres@" + server + "/" + Topology.DATABASE
					: "r2dbc:mysql://root@" + server + "/" + Topology.DATABASE + "?sslMode=DISABLED");
		}
	}
}
