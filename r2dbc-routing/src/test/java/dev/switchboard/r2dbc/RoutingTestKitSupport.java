package dev.switchboard.r2dbc;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.test.TestKit;
import org.junit.jupiter.api.AfterAll;
import org.springframework.jdbc.core.JdbcOperations;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * Runs the R2DBC SPI TestKit against {@link RoutingConnectionFactory}, routed to one tenant: the
 * routed connections must behave exactly like the driver's own.
 */
abstract class RoutingTestKitSupport implements TestKit<String> {

	private static final java.util.Map<Topology.Kind, Setup> SETUPS = new java.util.EnumMap<>(Topology.Kind.class);

	/** A routing factory and the JDBC access of one engine, built once per engine. */
	record Setup(RoutingConnectionFactory routing, JdbcTemplate jdbc) {
	}

	static synchronized Setup setup(Topology.Kind kind) {
		return SETUPS.computeIfAbsent(kind, k -> {
			Topology topology = DevDatabases.topology();
			Topology.Engine engine = topology.engine(k);
			ReplicatedDataSource dataSource = Fixtures.dataSource("testkit-" + engine.tag(), engine, 4, engine.replica());
			RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
					.dataSource(dataSource)
					.tenant("testkit", dataSource.name())
					.build());
			JdbcTemplate jdbc = new JdbcTemplate(new SingleConnectionDataSource(engine.jdbcUrl(engine.primary()), true));
			// A run killed halfway leaves the TestKit's tables behind; its own setup would then fail.
			for (String table : new String[] { "test", "test_two_column", "blob_test", "clob_test" }) {
				jdbc.execute("DROP TABLE IF EXISTS " + table);
			}
			return new Setup(routing, jdbc);
		});
	}

	@AfterAll
	static synchronized void closeAll() {
		SETUPS.values().forEach(setup -> setup.routing().close());
		SETUPS.clear();
	}

	abstract Topology.Kind kind();

	/**
	 * The TestKit subscribes without a Reactor Context of its own: this adapter adds the tenant,
	 * as an application's {@code contextWrite} would, and nothing else.
	 */
	@Override
	public ConnectionFactory getConnectionFactory() {
		RoutingConnectionFactory routing = setup(kind()).routing();
		return new ConnectionFactory() {

			@Override
			public Publisher<? extends Connection> create() {
				return Mono.from(routing.create()).contextWrite(RoutingContext.forTenant("testkit"));
			}

			@Override
			public ConnectionFactoryMetadata getMetadata() {
				return routing.getMetadata();
			}
		};
	}

	@Override
	public JdbcOperations getJdbcOperations() {
		return setup(kind()).jdbc();
	}
}
