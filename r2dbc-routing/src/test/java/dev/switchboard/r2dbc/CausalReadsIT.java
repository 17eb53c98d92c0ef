package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Causal read-your-writes on the real topology: after a write, a read goes to a replica that has
 * replayed it (PostgreSQL WAL location, MariaDB GTID), else to the primary; never to a replica
 * that has not. Two datasources per engine: one whose only replica applies changes 2 s late, one
 * whose replica has no delay. The token also travels to a second "application instance": another
 * routing factory over its own pools, with a fresh request context.
 */
@ExtendWith(DevDatabases.class)
class CausalReadsIT {

	static final int CYCLES = 500;

	static final String TABLE = "causal_probe";

	static Topology topology;

	static RoutingConnectionFactory instanceA;

	static RoutingConnectionFactory instanceB;

	static final Map<String, LongAdder> reasons = new ConcurrentHashMap<>();

	static final java.util.List<ReplicatedDataSource> dataSources = new java.util.concurrent.CopyOnWriteArrayList<>();

	@BeforeAll
	static void setUp(Topology found) {
		topology = found;
		instanceA = instance(found, new RoutingListener() {
			@Override
			public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
				reasons.computeIfAbsent(tenant + " " + reason.tag(), key -> new LongAdder()).increment();
			}
		});
		instanceB = instance(found, RoutingListener.NONE);
		found.createIdTable(TABLE);
	}

	static RoutingConnectionFactory instance(Topology found, RoutingListener listener) {
		TenantRegistry.Builder registry = TenantRegistry.builder();
		for (Topology.Kind kind : Topology.Kind.values()) {
			Topology.Engine engine = found.engine(kind);
			registry.dataSource(causal(engine, "lagging-" + tag(kind), engine.laggingReplica()))
					.tenant(tenant(kind, true), "lagging-" + tag(kind))
					.dataSource(causal(engine, "fresh-" + tag(kind), engine.replica()))
					.tenant(tenant(kind, false), "fresh-" + tag(kind));
		}
		return new RoutingConnectionFactory(registry.build(), listener);
	}

	static ReplicatedDataSource causal(Topology.Engine engine, String name, Topology.Server replica) {
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder(name)
				.primary(engine.url(engine.primary()))
				.replica(engine.url(replica))
				.consistency(ReadConsistency.CAUSAL)
				.causalWait(Duration.ofMillis(100))
				.probeInterval(Duration.ofMillis(500))
				.pool(pool -> pool.initialSize(0).maxSize(4).maxAcquireTime(Duration.ofSeconds(10)))
				.build();
		dataSources.add(dataSource);
		return dataSource;
	}

	@AfterAll
	static void tearDown() {
		instanceA.close();
		instanceB.close();
	}

	static String tenant(Topology.Kind kind, boolean lagging) {
		return (lagging ? "causal-lagging-" : "causal-fresh-") + tag(kind);
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aReadAfterAWriteNeverMissesItAndUsesAReplicaThatHasReplayedIt(Topology.Kind kind) {
		for (boolean lagging : new boolean[] { true, false }) {
			String tenant = tenant(kind, lagging);
			int stale = 0;
			for (int i = 0; i < CYCLES; i++) {
				String id = UUID.randomUUID().toString();
				boolean seen = insert(instanceA, kind, id).then(read(instanceA, kind, id))
						.contextWrite(RoutingContext.forTenant(tenant))
						.block();
				if (!seen) {
					stale++;
				}
			}
			long byReplica = count(tenant, RoutingListener.Reason.REPLICA_CAUSAL);
			long byPrimary = count(tenant, RoutingListener.Reason.PRIMARY_CAUSAL)
					+ count(tenant, RoutingListener.Reason.PRIMARY_PINNED);
			System.out.printf("causal %s %s replica: %d write->read cycles, %d stale, post-write reads by a replica %d"
					+ " (%.1f%%), by the primary %d%n", kind, lagging ? "2s-lagging" : "no-delay", CYCLES, stale,
					byReplica, 100.0 * byReplica / CYCLES, byPrimary);
			assertThat(stale).isZero();
			assertThat(byReplica + byPrimary).isEqualTo(CYCLES);
			if (lagging) {
				assertThat(byReplica).as("a replica 2 s behind cannot have replayed a write just made").isZero();
			}
			else {
				assertThat(byReplica).as("a replica without delay replays most writes within the wait")
						.isGreaterThan(CYCLES / 2);
			}
		}
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aTokenCarriesReadYourWritesToAnotherInstance(Topology.Kind kind) {
		String tenant = tenant(kind, true);
		int stale = 0;
		int withoutToken = 0;
		for (int i = 0; i < 50; i++) {
			String id = UUID.randomUUID().toString();
			RoutingContext first = RoutingContext.of(TenantId.of(tenant));
			insert(instanceA, kind, id).contextWrite(first.asContextWriter()).block();
			CausalToken exported = first.causalToken();
			assertThat(exported).as("the write left its position").isNotNull();
			assertThat(exported.dataSource()).isEqualTo("lagging-" + tag(kind));

			// Another instance, another request: only the token's string form crosses over.
			RoutingContext second = RoutingContext.of(TenantId.of(tenant));
			second.pin().observe(CausalToken.parse(exported.toString()));
			if (!read(instanceB, kind, id).contextWrite(second.asContextWriter()).block()) {
				stale++;
			}
			// The control: the same read, in a request without the token, on the lagging replica.
			if (!read(instanceB, kind, id).contextWrite(RoutingContext.forTenant(tenant)).block()) {
				withoutToken++;
			}
		}
		System.out.printf("causal token %s across instances: 50 reads with the token, %d stale; without it %d missed%n",
				kind, stale, withoutToken);
		assertThat(stale).isZero();
		assertThat(withoutToken).as("without the token the lagging replica misses the write").isGreaterThan(40);
	}

	@org.junit.jupiter.api.Test
	void causalReadsCancelledWhileTheyWaitForAReplicaLeaveNoConnectionAcquired() {
		int requests = Integer.getInteger("causal.leak.requests", 2_000);
		// Where each unfinished request is, so that a hang names its step instead of timing out blind.
		Map<Integer, String> unfinished = new ConcurrentHashMap<>();
		try {
			Flux.range(0, requests)
					.flatMap(i -> {
						java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
						Topology.Kind kind = random.nextBoolean() ? Topology.Kind.POSTGRESQL : Topology.Kind.MARIADB;
						String tenant = tenant(kind, random.nextBoolean());
						String id = "cancel-" + i + "-" + random.nextLong();
						long timeout = random.nextLong(5_000_000);
						// The read is cut off after 0 to 5 ms: while connecting, waiting on the replica, or reading.
						return Mono.fromRunnable(() -> unfinished.put(i, tenant + " insert"))
								.then(insert(instanceA, kind, id))
								.doOnSuccess(inserted -> unfinished.put(i, tenant + " read cut off after " + timeout + " ns"))
								.then(read(instanceA, kind, id).timeout(Duration.ofNanos(timeout))
										.onErrorResume(java.util.concurrent.TimeoutException.class, ex -> Mono.empty()))
								.doOnSuccess(done -> unfinished.remove(i))
								.contextWrite(RoutingContext.forTenant(tenant));
					}, 16)
					.blockLast(Duration.ofMinutes(2));
		}
		catch (IllegalStateException hung) {
			throw new AssertionError("requests still running after 2 minutes: " + unfinished + "; connections acquired "
					+ leakedPools(), hung);
		}
		try {
			dev.switchboard.r2dbc.test.Await.until(Duration.ofSeconds(20), () -> acquired() == 0);
		}
		catch (AssertionError stillAcquired) {
			// reported below
		}
		System.out.printf("causal leaks: %d write->read requests with reads timed out at random, %d connections left"
				+ " acquired %s%n", requests, acquired(), leakedPools());
		assertThat(acquired()).isZero();
	}

	static java.util.List<String> leakedPools() {
		java.util.List<String> leaked = new java.util.ArrayList<>();
		for (ReplicatedDataSource dataSource : dataSources) {
			for (DataSource.Target target : java.util.stream.Stream.concat(java.util.stream.Stream.of(dataSource.primary()),
					dataSource.replicas().stream()).toList()) {
				int acquired = dataSource.pool(target).getMetrics().map(metrics -> metrics.acquiredSize()).orElse(0);
				if (acquired > 0) {
					leaked.add(target.name() + "=" + acquired);
				}
			}
		}
		return leaked;
	}

	static int acquired() {
		return dataSources.stream().mapToInt(dev.switchboard.r2dbc.test.Fixtures::acquired).sum();
	}

	static String tag(Topology.Kind kind) {
		return kind.name().toLowerCase(java.util.Locale.ROOT);
	}

	static long count(String tenant, RoutingListener.Reason reason) {
		LongAdder adder = reasons.get(tenant + " " + reason.tag());
		return adder == null ? 0 : adder.sum();
	}

	static Mono<Long> insert(RoutingConnectionFactory routing, Topology.Kind kind, String id) {
		String sql = "INSERT INTO " + TABLE + " (id) VALUES (" + kind.placeholder() + ")";
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
						.concatMap(r -> r.getRowsUpdated()),
				Connection::close)
				// last(), not next(): the pipeline waits for the connection's release, which reads the position.
				.last()
				.contextWrite(RoutingContext.intent(AccessIntent.WRITE));
	}

	static Mono<Boolean> read(RoutingConnectionFactory routing, Topology.Kind kind, String id) {
		String sql = "SELECT id FROM " + TABLE + " WHERE id = " + kind.placeholder();
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
						.concatMap(r -> r.map(row -> row.get(0, String.class))),
				Connection::close)
				.hasElements()
				.contextWrite(RoutingContext.intent(AccessIntent.READ));
	}
}
