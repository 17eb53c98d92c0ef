package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Lag-aware selection on the real topology: with {@code max-replication-lag} of 500 ms, the
 * replica that applies changes 2 s late is skipped while writes keep it behind, and serves reads
 * again once it has caught up.
 */
@ExtendWith(DevDatabases.class)
class ReplicationLagIT {

	static final String TABLE = "lag_probe";

	static Topology topology;

	@BeforeAll
	static void setUp(Topology found) {
		topology = found;
		found.createIdTable(TABLE);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aReplicaBeyondTheMaximumLagIsSkippedUntilItCatchesUp(Topology.Kind kind) {
		Topology.Engine engine = topology.engine(kind);
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder("lag-" + kind.name().toLowerCase())
				.primary(engine.url(engine.primary()))
				.replica(engine.url(engine.replica()))
				.replica(engine.url(engine.laggingReplica()))
				.maxReplicationLag(Duration.ofMillis(500))
				.probeInterval(Duration.ofMillis(100))
				.pool(pool -> pool.initialSize(0).maxSize(4))
				.build();
		try (RoutingConnectionFactory routing = new RoutingConnectionFactory(
				TenantRegistry.builder().dataSource(dataSource).tenant("lagged", dataSource.name()).build())) {
			AtomicBoolean writing = new AtomicBoolean(true);
			String run = UUID.randomUUID().toString();
			java.util.concurrent.atomic.AtomicReference<Throwable> writerFailure = new java.util.concurrent.atomic.AtomicReference<>();
			String insert = "INSERT INTO " + TABLE + " (id) VALUES (" + kind.placeholder() + ")";
			// Built here: the driver lookup reads jar files, which BlockHound forbids on the interval's thread.
			ConnectionFactory primary = engine.connectionFactory(engine.primary());
			Disposable writer = Flux.interval(Duration.ofMillis(50))
					// A slow write skips ticks instead of ending the writer with an overflow.
					.onBackpressureDrop()
					.takeWhile(tick -> writing.get())
					// Not UUID.randomUUID(): SecureRandom may block, and BlockHound watches this thread.
					.concatMap(tick -> Sql.update(primary, insert, run + "-" + tick))
					.subscribe(count -> {
					}, writerFailure::set);
			try {
				// Behind once the probe has sampled writes the 2 s replica has not replayed for 500 ms.
				Await.until(Duration.ofSeconds(10), () -> dataSource.status(dataSource.replicas().get(1)).lagging());
				List<Integer> whileBehind = ports(routing, kind, 200);
				var status = dataSource.status(dataSource.replicas().get(1));
				System.out.printf("lag %s: while writing, lagging replica measured %s behind (lagging=%s); 200 reads"
						+ " served by %s%n", kind, status.lag(), status.lagging(), whileBehind.stream().distinct().toList());
				assertThat(writerFailure.get()).as("the writer that keeps the replica behind").isNull();
				assertThat(status.lagging()).isTrue();
				assertThat(whileBehind).containsOnly(engine.replica().port());

				writing.set(false);
				Await.until(Duration.ofSeconds(10), () -> !dataSource.status(dataSource.replicas().get(1)).lagging());
				List<Integer> caughtUp = ports(routing, kind, 200);
				System.out.printf("lag %s: writes stopped, lagging replica caught up (lag %s); 200 reads served by %s%n",
						kind, dataSource.status(dataSource.replicas().get(1)).lag(), caughtUp.stream().distinct().sorted().toList());
				assertThat(caughtUp).contains(engine.laggingReplica().port());
			}
			finally {
				writing.set(false);
				writer.dispose();
			}
		}
	}

	static List<Integer> ports(RoutingConnectionFactory routing, Topology.Kind kind, int reads) {
		String sql = kind == Topology.Kind.POSTGRESQL ? "SELECT inet_server_port()" : "SELECT @@port";
		return Flux.range(0, reads)
				.concatMap(i -> Flux.usingWhen(routing.create(),
						connection -> Flux.from(connection.createStatement(sql).execute())
								.concatMap(result -> result.map(row -> ((Number) row.get(0)).intValue())),
						Connection::close)
						.contextWrite(RoutingContext.intent(AccessIntent.READ))
						.contextWrite(RoutingContext.forTenant("lagged")))
				.collectList()
				.block();
	}
}
