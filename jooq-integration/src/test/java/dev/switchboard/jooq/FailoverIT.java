package dev.switchboard.jooq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.Field;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Servers that die under load, on the fault topology of {@code scripts/dev-db.sh}, which these
 * tests stop hard and start again (the main topology the other tests use is never touched). Each
 * datasource has the primary and both replicas; reads go through {@link TenantDatabase}, which
 * retries a read once when it fails before its first row.
 */
class FailoverIT {

	static final String TABLE = "failover_notes";

	static FaultTopology fault;

	ReplicatedDataSource dataSource;

	RoutingConnectionFactory routing;

	TenantDatabase db;

	@BeforeAll
	static void setUp() {
		fault = FaultTopology.find();
		fault.topology().createIdTable(TABLE);
	}

	@AfterEach
	void restore() {
		if (this.routing != null) {
			this.routing.close();
		}
		fault.restore();
	}

	void build(Topology.Kind kind) {
		Topology.Engine engine = fault.topology().engine(kind);
		this.dataSource = ReplicatedDataSource.builder("fault-" + kind.name().toLowerCase())
				.primary(engine.url(engine.primary()))
				.replica(engine.url(engine.replica()))
				.replica(engine.url(engine.laggingReplica()))
				.probeInterval(Duration.ofMillis(200))
				.pool(pool -> pool.initialSize(0).maxSize(8).maxAcquireTime(Duration.ofSeconds(2))
						.maxCreateConnectionTime(Duration.ofSeconds(2)))
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(this.dataSource)
				.tenant("victim", this.dataSource.name()).build());
		this.db = RoutedDsl.builder(this.routing)
				.dialect(this.dataSource.name(), kind == Topology.Kind.POSTGRESQL ? SQLDialect.POSTGRES : SQLDialect.MARIADB)
				.build()
				.database();
	}

	static Field<Integer> port(Topology.Kind kind) {
		return DSL.field(kind == Topology.Kind.POSTGRESQL ? "inet_server_port()" : "@@port", Integer.class);
	}

	Mono<Integer> readPort(Topology.Kind kind) {
		return this.db.query(dsl -> dsl.select(port(kind))).single().map(record -> record.value1())
				.contextWrite(RoutingContext.forTenant("victim"));
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aReplicaStoppedHardUnderReadsFailsNoReadAndIsBackAfterItRestarts(Topology.Kind kind) throws Exception {
		build(kind);
		Topology.Server victim = fault.topology().engine(kind).replica();
		Map<Integer, LongAdder> servedBy = new ConcurrentHashMap<>();
		List<Throwable> failures = new CopyOnWriteArrayList<>();
		AtomicBoolean running = new AtomicBoolean(true);
		Disposable load = Flux.range(0, Integer.MAX_VALUE)
				.takeWhile(i -> running.get())
				.flatMap(i -> readPort(kind)
						.doOnNext(port -> servedBy.computeIfAbsent(port, key -> new LongAdder()).increment())
						.onErrorResume(failure -> {
							failures.add(failure);
							return Mono.empty();
						}), 8)
				.subscribe();
		try {
			Await.until(Duration.ofSeconds(10), () -> count(servedBy, victim.port()) >= 100);
			long beforeKill = count(servedBy, victim.port());
			fault.kill(victim);
			long killedAt = System.nanoTime();
			// Not a condition: the outage lasts 2 s while the load keeps reading.
			Thread.sleep(2_000);
			long duringOutage = total(servedBy);
			long victimDuringOutage = count(servedBy, victim.port());
			fault.start(victim);
			long restartedAt = System.nanoTime();
			Await.until(Duration.ofSeconds(30), () -> count(servedBy, victim.port()) > victimDuringOutage);
			long backAfterMillis = (System.nanoTime() - restartedAt) / 1_000_000;
			running.set(false);
			System.out.printf("failover %s: replica :%d killed after %d of its reads; %d reads in total, %d failed; "
					+ "served by port %s; back in rotation %d ms after its restart (outage %d ms)%n", kind, victim.port(),
					beforeKill, total(servedBy), failures.size(), servedBy, backAfterMillis,
					(restartedAt - killedAt) / 1_000_000);
			// A failure is rare and late: its whole trace says which step of the read met it.
			failures.forEach(failure -> failure.printStackTrace(System.out));
			assertThat(failures).as("no read fails while another target is healthy").isEmpty();
			assertThat(beforeKill).as("the victim served reads before").isPositive();
			assertThat(duringOutage).isPositive();
			assertThat(count(servedBy, victim.port())).as("the replica is back in rotation after its restart")
					.isGreaterThan(victimDuringOutage);
		}
		finally {
			running.set(false);
			load.dispose();
		}
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aStoppedPrimaryFailsWritesFastWhileReplicasServeReads(Topology.Kind kind) {
		build(kind);
		Topology.Engine engine = fault.topology().engine(kind);
		assertThat(readPort(kind).block()).isIn(engine.replica().port(), engine.laggingReplica().port());
		fault.kill(engine.primary());

		List<String> attempted = new ArrayList<>();
		long slowestMillis = 0;
		for (int i = 0; i < 20; i++) {
			String id = UUID.randomUUID().toString();
			attempted.add(id);
			long start = System.nanoTime();
			Throwable failure = this.db.execute(dsl -> dsl.insertInto(DSL.table(TABLE)).columns(DSL.field("id", String.class))
							.values(id))
					.contextWrite(RoutingContext.forTenant("victim"))
					.then(Mono.<Throwable>empty())
					.onErrorResume(Mono::just)
					.block(Duration.ofSeconds(10));
			slowestMillis = Math.max(slowestMillis, (System.nanoTime() - start) / 1_000_000);
			assertThat(failure).as("write %d must fail", i).isNotNull();
			assertThat(dataError(failure).kind()).isEqualTo(DataError.Kind.TRANSIENT);
		}
		List<Integer> ports = Flux.range(0, 100).concatMap(i -> readPort(kind)).collectList().block();
		System.out.printf("primary down %s: 20 writes failed TRANSIENT, slowest in %d ms; 100 reads served by %s%n", kind,
				slowestMillis, ports.stream().distinct().sorted().toList());
		assertThat(slowestMillis).as("writes fail fast").isLessThan(2_000);
		assertThat(ports).hasSize(100).allMatch(port -> port == engine.replica().port() || port == engine.laggingReplica().port());

		fault.start(engine.primary());
		for (Topology.Server server : List.of(engine.primary(), engine.replica(), engine.laggingReplica())) {
			String in = String.join(",", attempted.stream().map(id -> "'" + id + "'").toList());
			assertThat(Sql.query(engine.connectionFactory(server), "SELECT id FROM " + TABLE + " WHERE id IN (" + in + ")"))
					.as("no write landed on %s", server).isEmpty();
		}
	}

	static DataError dataError(Throwable failure) {
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof DataError error) {
				return error;
			}
		}
		throw new AssertionError("not a DataError", failure);
	}

	static long count(Map<Integer, LongAdder> servedBy, int port) {
		LongAdder adder = servedBy.get(port);
		return adder == null ? 0 : adder.sum();
	}

	static long total(Map<Integer, LongAdder> servedBy) {
		return servedBy.values().stream().mapToLong(LongAdder::sum).sum();
	}
}
