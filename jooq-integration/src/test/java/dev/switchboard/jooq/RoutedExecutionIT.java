package dev.switchboard.jooq;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.SQLDialect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A statement executed on the routed {@code DSLContext}'s own connection, as a user of plain R2DBC
 * may: its subscriber can cancel it while its connection is still being routed (here: waiting for
 * a pool whose one connection is held), and then nothing is sent, and no connection is kept.
 * Counted outside the framework, on a connection of its own.
 */
@ExtendWith(DevDatabases.class)
class RoutedExecutionIT {

	private static final String TABLE = "routed_execution_ids";

	private ReplicatedDataSource dataSource;

	private RoutingConnectionFactory routing;

	private RoutedDsl routed;

	private ConnectionFactory outside;

	@BeforeEach
	void setUp(Topology topology) {
		topology.createIdTable(TABLE);
		this.outside = topology.postgres().connectionFactory(topology.postgres().primary());
		this.dataSource = Fixtures.dataSource("execution", topology.postgres(), 1);
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(this.dataSource)
				.tenant("acme", "execution")
				.build());
		this.routed = RoutedDsl.builder(this.routing).dialect("execution", SQLDialect.POSTGRES).build();
	}

	@AfterEach
	void tearDown() {
		this.routing.dispose();
	}

	@Test
	void aStatementCancelledWhileItsConnectionIsRoutedIsNeverSent() {
		String id = "cancelled-" + UUID.randomUUID();
		Function<Context, Context> acme = RoutingContext.forTenant("acme");
		// The pool's one connection, held: the statement's routing waits for it.
		Connection held = Mono.from(this.routing.create()).contextWrite(acme).block(Duration.ofSeconds(5));
		Connection deferred = Mono.from(this.routed.dsl().configuration().connectionFactory().create())
				.contextWrite(acme)
				.block(Duration.ofSeconds(5));

		Throwable failure = Flux.from(deferred.createStatement("INSERT INTO " + TABLE + " (id) VALUES ($1)")
						.bind(0, id)
						.execute())
				.flatMap(result -> result.getRowsUpdated())
				.timeout(Duration.ofMillis(300))
				.contextWrite(acme)
				.then()
				.materialize()
				.block(Duration.ofSeconds(5))
				.getThrowable();

		assertThat(failure).isInstanceOf(TimeoutException.class);
		Mono.from(held.close()).block(Duration.ofSeconds(5));
		Mono.from(deferred.close()).block(Duration.ofSeconds(5));
		// Had the routing gone on, its acquisition, queued first, would have taken the freed
		// connection and run the insert; the pool's one connection, taken again after it, is free
		// only once that insert and its release were over.
		Connection after = Mono.from(this.routing.create()).contextWrite(acme).block(Duration.ofSeconds(5));
		Mono.from(after.close()).block(Duration.ofSeconds(5));
		assertThat(Sql.query(this.outside, "SELECT id FROM " + TABLE + " WHERE id = $1", id)).isEmpty();
		assertThat(Fixtures.acquired(this.dataSource)).isZero();
	}
}
