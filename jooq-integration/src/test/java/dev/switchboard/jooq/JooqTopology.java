package dev.switchboard.jooq;

import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.SQLDialect;

/**
 * The routed jOOQ setup the integration tests share: tenant {@value #PG} on PostgreSQL, tenant
 * {@value #MARIA} on MariaDB (each with its no-delay replica), and one tenant per engine whose
 * only replica lags 2 s.
 */
final class JooqTopology implements AutoCloseable {

	static final String PG = "acme";

	static final String MARIA = "globex";

	static final String PG_LAGGING = "lag-acme";

	static final String MARIA_LAGGING = "lag-globex";

	static final String TABLE = "notes";

	final Topology topology;

	final ReplicatedDataSource pg;

	final ReplicatedDataSource maria;

	final ReplicatedDataSource pgLagging;

	final ReplicatedDataSource mariaLagging;

	final RoutingConnectionFactory routing;

	final RoutedDsl dsl;

	JooqTopology(Topology topology) {
		this.topology = topology;
		this.pg = Fixtures.dataSource("pg-main", topology.postgres(), 10, topology.postgres().replica());
		this.maria = Fixtures.dataSource("maria-main", topology.mariadb(), 10, topology.mariadb().replica());
		this.pgLagging = Fixtures.dataSource("pg-lagging", topology.postgres(), 4, topology.postgres().laggingReplica());
		this.mariaLagging = Fixtures.dataSource("maria-lagging", topology.mariadb(), 4, topology.mariadb().laggingReplica());
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(this.pg).dataSource(this.maria).dataSource(this.pgLagging).dataSource(this.mariaLagging)
				.tenant(PG, "pg-main").tenant(MARIA, "maria-main")
				.tenant(PG_LAGGING, "pg-lagging").tenant(MARIA_LAGGING, "maria-lagging")
				.build());
		this.dsl = RoutedDsl.builder(this.routing)
				.dialect("pg-main", SQLDialect.POSTGRES).dialect("pg-lagging", SQLDialect.POSTGRES)
				.dialect("maria-main", SQLDialect.MARIADB).dialect("maria-lagging", SQLDialect.MARIADB)
				.build();
		for (Topology.Engine engine : new Topology.Engine[] { topology.postgres(), topology.mariadb() }) {
			Sql.execute(primary(engine), "CREATE TABLE IF NOT EXISTS " + TABLE
					+ " (id VARCHAR(64) PRIMARY KEY, tenant VARCHAR(64) NOT NULL, body VARCHAR(200))");
			engine.awaitTable(TABLE);
		}
	}

	static ConnectionFactory primary(Topology.Engine engine) {
		return engine.connectionFactory(engine.primary());
	}

	/** Tell whether the row is on the primary of {@code engine}, asked of that server directly. */
	boolean onPrimary(Topology.Engine engine, String id) {
		String placeholder = engine.kind().placeholder();
		return !Sql.query(primary(engine), "SELECT id FROM " + TABLE + " WHERE id = " + placeholder, id).isEmpty();
	}

	int acquired() {
		return Fixtures.acquired(this.pg) + Fixtures.acquired(this.maria) + Fixtures.acquired(this.pgLagging)
				+ Fixtures.acquired(this.mariaLagging);
	}

	/**
	 * Wait until every pool has all its connections back. A pipeline that took only part of a
	 * result (next(), take(n)) completes before jOOQ has closed its connection.
	 */
	void awaitNoneAcquired() {
		dev.switchboard.r2dbc.test.Await.until(java.time.Duration.ofSeconds(5), () -> acquired() == 0);
	}

	@Override
	public void close() {
		this.routing.close();
	}
}
