package dev.switchboard.r2dbc;

import java.util.UUID;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Read-after-write against the replicas that apply changes 2 s late: without the pin a read right
 * after a write misses the row, with the pin it sees it.
 */
@ExtendWith(DevDatabases.class)
class ReadAfterWriteIT {

	static final int CYCLES = 200;

	static final String TABLE = "raw_probe";

	static Topology topology;

	static RoutingConnectionFactory routing;

	@BeforeAll
	static void setUp(Topology found) {
		topology = found;
		routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(Fixtures.dataSource("pg-lagging", found.postgres(), 4, found.postgres().laggingReplica()))
				.dataSource(Fixtures.dataSource("maria-lagging", found.mariadb(), 4, found.mariadb().laggingReplica()))
				.tenant(tenant(Topology.Kind.POSTGRESQL), "pg-lagging")
				.tenant(tenant(Topology.Kind.MARIADB), "maria-lagging")
				.build());
		found.createIdTable(TABLE);
	}

	@AfterAll
	static void tearDown() {
		routing.close();
	}

	static String tenant(Topology.Kind kind) {
		return "lag-" + kind.name().toLowerCase();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void withoutThePinAReadRightAfterAWriteMissesTheRow(Topology.Kind kind) {
		int misses = 0;
		for (int i = 0; i < CYCLES; i++) {
			String id = UUID.randomUUID().toString();
			insert(kind, id).contextWrite(RoutingContext.forTenant(tenant(kind))).block();
			// A second request: a fresh pin that never saw the write.
			boolean seen = read(kind, id).contextWrite(RoutingContext.forTenant(tenant(kind))).block();
			if (!seen) {
				misses++;
			}
		}
		System.out.printf("read-after-write control %s: %d cycles, %d reads missed the row%n", kind, CYCLES, misses);
		assertThat(misses).isEqualTo(CYCLES);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void withThePinAReadRightAfterAWriteSeesTheRow(Topology.Kind kind) {
		int stale = 0;
		for (int i = 0; i < CYCLES; i++) {
			String id = UUID.randomUUID().toString();
			boolean seen = insert(kind, id).then(read(kind, id))
					.contextWrite(RoutingContext.forTenant(tenant(kind)))
					.block();
			if (!seen) {
				stale++;
			}
		}
		System.out.printf("read-after-write pinned %s: %d cycles, %d stale reads%n", kind, CYCLES, stale);
		assertThat(stale).isZero();
	}

	static Mono<Long> insert(Topology.Kind kind, String id) {
		String sql = "INSERT INTO " + TABLE + " (id) VALUES (" + placeholder(kind) + ")";
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
						.concatMap(r -> r.getRowsUpdated()),
				Connection::close)
				.next()
				.contextWrite(RoutingContext.intent(AccessIntent.WRITE));
	}

	static Mono<Boolean> read(Topology.Kind kind, String id) {
		String sql = "SELECT id FROM " + TABLE + " WHERE id = " + placeholder(kind);
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
						.concatMap(r -> r.map(row -> row.get(0, String.class))),
				Connection::close)
				.hasElements()
				.contextWrite(RoutingContext.intent(AccessIntent.READ));
	}

	static String placeholder(Topology.Kind kind) {
		return kind.placeholder();
	}

}
