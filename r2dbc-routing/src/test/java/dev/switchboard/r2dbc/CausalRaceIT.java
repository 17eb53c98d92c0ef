package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The causal hand-over race (issue 13, 3): a causal read waits for a replica to replay the
 * request's write; when the wait finishes just before the waiting reader stores it, the reader's
 * connection went back to the pool while the reader still used it, and the read hung or failed
 * with "The connection is closed". A focused loop of write-then-read cycles per engine, on the
 * replica without delay (where the wait finishes quickest), one cycle at a time, each read under
 * a timeout: every read answers, sees its write, and holds a connection the pools count as
 * acquired while it reads; at the end nothing is acquired.
 */
@ExtendWith(DevDatabases.class)
class CausalRaceIT {

	static final int CYCLES = Integer.getInteger("causal.race.cycles", 2_000);

	static final Duration READ_TIMEOUT = Duration.ofSeconds(5);

	static final String TABLE = "causal_race";

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void causalReadsOnTheNoDelayReplicaNeverHangAndNeverShareTheirConnectionWithThePool(Topology.Kind kind,
			Topology topology) {
		topology.createIdTable(TABLE);
		Topology.Engine engine = topology.engine(kind);
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder("race-" + engine.tag())
				.primary(engine.url(engine.primary()))
				.replica(engine.url(engine.replica()))
				.consistency(ReadConsistency.CAUSAL)
				.causalWait(Duration.ofMillis(100))
				.probeInterval(Duration.ofMillis(500))
				.pool(pool -> pool.initialSize(0).maxSize(4).maxAcquireTime(Duration.ofSeconds(10)))
				.build();
		String tenant = "race-" + engine.tag();
		Map<String, Integer> failures = new ConcurrentHashMap<>();
		int hung = 0;
		int stale = 0;
		int readWhileNotAcquired = 0;
		int minAcquiredWhileReading = Integer.MAX_VALUE;
		long started = System.nanoTime();
		try (RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(dataSource).tenant(tenant, dataSource.name()).build())) {
			for (int i = 0; i < CYCLES; i++) {
				String id = "race-" + i + "-" + UUID.randomUUID();
				try {
					// One request: one RoutingContext (one pin, one causal position) for the write and the read.
					int[] acquiredWhileReading = read(routing, dataSource, kind, id, insert(routing, kind, id))
							.contextWrite(RoutingContext.forTenant(tenant))
							.timeout(READ_TIMEOUT)
							.block();
					if (acquiredWhileReading == null) {
						stale++;
					}
					else {
						// The reader holds one connection; a count of 0 means the pool has it back as idle.
						minAcquiredWhileReading = Math.min(minAcquiredWhileReading, acquiredWhileReading[0]);
						if (acquiredWhileReading[0] < 1) {
							readWhileNotAcquired++;
						}
					}
				}
				catch (RuntimeException failure) {
					if (failure.getCause() instanceof TimeoutException || failure instanceof IllegalStateException
							&& String.valueOf(failure.getMessage()).startsWith("Timeout on blocking read")) {
						hung++;
					}
					else {
						failures.merge(failure.getClass().getSimpleName() + ": " + failure.getMessage(), 1, Integer::sum);
					}
				}
			}
			try {
				Await.until(Duration.ofSeconds(10), () -> Fixtures.acquired(dataSource) == 0);
			}
			catch (AssertionError stillAcquired) {
				// reported below
			}
			int acquired = Fixtures.acquired(dataSource);
			System.out.printf("causal race %s no-delay replica: %d write->read cycles in %d ms, %d hung (> %d s), %d stale,"
					+ " %d read on a connection the pools counted as not acquired, %d failed %s; %d connections left acquired%n",
					kind, CYCLES, Duration.ofNanos(System.nanoTime() - started).toMillis(), hung, READ_TIMEOUT.toSeconds(),
					stale, readWhileNotAcquired, failures.values().stream().mapToInt(Integer::intValue).sum(), failures,
					acquired);
			SoftAssertions softly = new SoftAssertions();
			softly.assertThat(hung).as("reads that hung").isZero();
			softly.assertThat(failures).as("reads that failed").isEmpty();
			softly.assertThat(stale).as("reads that missed their own write").isZero();
			softly.assertThat(readWhileNotAcquired).as("reads on a connection that was also idle in its pool").isZero();
			softly.assertThat(acquired).as("connections left acquired").isZero();
			softly.assertAll();
		}
	}

	static Mono<Long> insert(RoutingConnectionFactory routing, Topology.Kind kind, String id) {
		String sql = "INSERT INTO " + TABLE + " (id) VALUES (" + kind.placeholder() + ")";
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
						.concatMap(result -> result.getRowsUpdated()),
				Connection::close)
				.last()
				.contextWrite(RoutingContext.intent(AccessIntent.WRITE));
	}

	/**
	 * After {@code write}, read the row back in the same request, and return how many connections
	 * the datasource's pools counted as acquired while the row was read, or empty if it was not found.
	 */
	static Mono<int[]> read(RoutingConnectionFactory routing, ReplicatedDataSource dataSource, Topology.Kind kind,
			String id, Mono<Long> write) {
		String sql = "SELECT id FROM " + TABLE + " WHERE id = " + kind.placeholder();
		return write.then(Flux.usingWhen(routing.create(),
						connection -> Flux.from(connection.createStatement(sql).bind(0, id).execute())
								.concatMap(result -> result.map(row -> new int[] { Fixtures.acquired(dataSource) })),
						Connection::close)
				.next()
				.contextWrite(RoutingContext.intent(AccessIntent.READ)));
	}
}
