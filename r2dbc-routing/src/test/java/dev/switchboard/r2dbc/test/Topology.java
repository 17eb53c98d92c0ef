package dev.switchboard.r2dbc.test;

import java.util.Locale;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;

/**
 * The replicated databases the integration tests run against: per engine a primary, a replica
 * without delay, and a replica that applies changes 2 s late.
 *
 * @param postgres the PostgreSQL servers
 * @param mariadb the MariaDB servers
 * @param source where the topology came from, for test reports
 */
public record Topology(Engine postgres, Engine mariadb, String source) {

	/** The database every test uses, on every server. */
	public static final String DATABASE = "switchboard";

	/** The engines of the topology. */
	public enum Kind {
		POSTGRESQL, MARIADB;

		/**
		 * Return the driver's placeholder for the first bind value.
		 * @return {@code $1} for PostgreSQL, {@code ?} for MariaDB
		 */
		public String placeholder() {
			return this == POSTGRESQL ? "$1" : "?";
		}
	}

	/**
	 * The servers of one engine.
	 * @param kind the engine
	 * @param primary the primary
	 * @param replica the replica without apply delay
	 * @param laggingReplica the replica with a 2 s apply delay
	 */
	public record Engine(Kind kind, Server primary, Server replica, Server laggingReplica) {

		/**
		 * Return the R2DBC URL of a server, as the application user (on MariaDB a user without
		 * SUPER, so that {@code read_only} applies to it).
		 * @param server one of this engine's servers
		 * @return the URL
		 */
		public String url(Server server) {
			return url(server, DATABASE);
		}

		/**
		 * Return the R2DBC URL of a database on a server, as the application user.
		 * @param server one of this engine's servers
		 * @param database the database
		 * @return the URL
		 */
		public String url(Server server, String database) {
			return switch (this.kind) {
				case POSTGRESQL -> "r2dbc:postgresql://postgres@" + server + "/" + database;
				case MARIADB -> "r2dbc:mysql://switchboard@" + server + "/" + database + "?sslMode=DISABLED";
			};
		}

		/**
		 * Return an unpooled connection factory with administrative rights (creating databases,
		 * granting), on the primary.
		 * @return a new connection factory
		 */
		public ConnectionFactory adminConnectionFactory() {
			return ConnectionFactories.get(switch (this.kind) {
				case POSTGRESQL -> "r2dbc:postgresql://postgres@" + this.primary + "/" + DATABASE;
				case MARIADB -> "r2dbc:mysql://root@" + this.primary + "/" + DATABASE + "?sslMode=DISABLED";
			});
		}

		/**
		 * Wait until a table created on the primary exists on both replicas, the lagging one too.
		 * @param table a table of the {@value Topology#DATABASE} database
		 */
		public void awaitTable(String table) {
			awaitReplicated(DATABASE, "SELECT count(*) FROM " + table);
		}

		/**
		 * Wait until {@code sql} succeeds on both replicas: changes, DDL included, replicate like
		 * any other, the lagging replica 2 s late.
		 * @param database the database to run it in
		 * @param sql a query that fails until the change has arrived
		 */
		public void awaitReplicated(String database, String sql) {
			for (Server server : new Server[] { this.replica, this.laggingReplica }) {
				ConnectionFactory factory = ConnectionFactories.get(url(server, database));
				Await.until(java.time.Duration.ofSeconds(20), () -> {
					try {
						Sql.query(factory, sql);
						return true;
					}
					catch (RuntimeException ex) {
						return false;
					}
				});
			}
		}

		/**
		 * Create a database on the primary, if it does not exist, that the application user may use,
		 * and wait until every replica has it.
		 * @param database the database name, a plain identifier
		 */
		public void createDatabase(String database) {
			ConnectionFactory admin = adminConnectionFactory();
			if (this.kind == Kind.POSTGRESQL) {
				if (Sql.query(admin, "SELECT 1 FROM pg_database WHERE datname = $1", database).isEmpty()) {
					Sql.execute(admin, "CREATE DATABASE " + database);
				}
			}
			else {
				Sql.execute(admin, "CREATE DATABASE IF NOT EXISTS " + database);
				for (String host : new String[] { "%", "localhost", "127.0.0.1" }) {
					Sql.execute(admin, "GRANT ALL ON " + database + ".* TO 'switchboard'@'" + host + "'");
				}
			}
			awaitReplicated(database, "SELECT 1");
		}

		/**
		 * Return the JDBC URL of a server, for the R2DBC TestKit's checks.
		 * @param server one of this engine's servers
		 * @return the URL
		 */
		public String jdbcUrl(Server server) {
			return switch (this.kind) {
				case POSTGRESQL -> "jdbc:postgresql://" + server + "/" + DATABASE + "?user=postgres";
				case MARIADB -> "jdbc:mariadb://" + server + "/" + DATABASE + "?user=switchboard";
			};
		}

		/**
		 * Return an unpooled connection factory for a server.
		 * @param server one of this engine's servers
		 * @return a new connection factory
		 */
		public ConnectionFactory connectionFactory(Server server) {
			return ConnectionFactories.get(url(server));
		}

		/**
		 * Return a short lower-case name of the engine, for datasource and tenant names.
		 * @return {@code postgresql} or {@code mariadb}
		 */
		public String tag() {
			return this.kind.name().toLowerCase(Locale.ROOT);
		}
	}

	/**
	 * One server.
	 * @param host the host name or address
	 * @param port the TCP port
	 */
	public record Server(String host, int port) {

		static Server parse(String hostAndPort) {
			int colon = hostAndPort.lastIndexOf(':');
			if (colon <= 0) {
				throw new IllegalArgumentException("expected host:port, was '" + hostAndPort + "'");
			}
			return new Server(hostAndPort.substring(0, colon), Integer.parseInt(hostAndPort.substring(colon + 1)));
		}

		@Override
		public String toString() {
			return this.host + ":" + this.port;
		}
	}

	/**
	 * Return the engine of a kind.
	 * @param kind the engine
	 * @return its servers
	 */
	public Engine engine(Kind kind) {
		return kind == Kind.POSTGRESQL ? this.postgres : this.mariadb;
	}

	/**
	 * Create a table of string ids on each engine's primary, if it is not there, and wait until
	 * every replica has it.
	 * @param table a table of the {@value #DATABASE} database
	 */
	public void createIdTable(String table) {
		for (Kind kind : Kind.values()) {
			Engine engine = engine(kind);
			Sql.execute(engine.connectionFactory(engine.primary()),
					"CREATE TABLE IF NOT EXISTS " + table + " (id VARCHAR(64) PRIMARY KEY)");
			engine.awaitTable(table);
		}
	}
}
