package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Subscriptions cancelled at random points (while acquiring, while streaming rows, while
 * closing) never leave a connection acquired.
 */
@ExtendWith(DevDatabases.class)
class ConnectionLeakIT {

	static final int SUBSCRIPTIONS = 10_000;

	static final String ROWS = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 200) SELECT n FROM r";

	static ReplicatedDataSource postgres;

	static ReplicatedDataSource mariadb;

	static RoutingConnectionFactory routing;

	@BeforeAll
	static void setUp(Topology topology) {
		postgres = Fixtures.dataSource("leak-pg", topology.postgres(), 8, topology.postgres().replica());
		mariadb = Fixtures.dataSource("leak-maria", topology.mariadb(), 8, topology.mariadb().replica());
		routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(postgres)
				.dataSource(mariadb)
				.tenant("leak-pg", "leak-pg")
				.tenant("leak-maria", "leak-maria")
				.build());
	}

	@AfterAll
	static void tearDown() {
		routing.close();
	}

	@Test
	void randomlyCancelledSubscriptionsLeaveNoConnectionAcquired() {
		// take(1), timeout, dispose, and completion, counted per way of ending
		AtomicLongArray endings = new AtomicLongArray(4);

		Flux.range(0, SUBSCRIPTIONS)
				.flatMap(i -> {
					ThreadLocalRandom random = ThreadLocalRandom.current();
					String tenant = random.nextBoolean() ? "leak-pg" : "leak-maria";
					AccessIntent intent = random.nextBoolean() ? AccessIntent.READ : AccessIntent.WRITE;
					int way = random.nextInt(4);
					endings.incrementAndGet(way);
					Flux<Long> rows = rows().contextWrite(RoutingContext.intent(intent));
					Mono<?> ended = switch (way) {
						case 0 -> rows.take(1).then();
						case 1 -> rows.then().timeout(Duration.ofNanos(random.nextLong(5_000_000)))
								.onErrorResume(java.util.concurrent.TimeoutException.class, ex -> Mono.empty());
						case 2 -> disposedAfter(rows, random.nextLong(3_000));
						default -> rows.then();
					};
					return ended.contextWrite(RoutingContext.forTenant(tenant));
				}, 32)
				.blockLast(Duration.ofMinutes(5));

		// Cancelled connections are closed asynchronously: wait for the pools to settle.
		try {
			Await.until(Duration.ofSeconds(20), () -> Fixtures.acquired(postgres) + Fixtures.acquired(mariadb) == 0);
		}
		catch (AssertionError stillAcquired) {
			// reported with the counts below
		}
		int leaked = Fixtures.acquired(postgres) + Fixtures.acquired(mariadb);
		System.out.printf("leaks: %d subscriptions (take(1) %d, timeout %d, dispose %d, complete %d), %d connections left acquired%n",
				SUBSCRIPTIONS, endings.get(0), endings.get(1), endings.get(2), endings.get(3), leaked);
		assertThat(leaked).isZero();
	}

	static Flux<Long> rows() {
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement(ROWS).execute())
						.concatMap(result -> result.map(row -> ((Number) row.get(0)).longValue())),
				Connection::close);
	}

	/** Subscribe, then dispose the subscription after {@code micros} on another thread. */
	static Mono<Void> disposedAfter(Flux<Long> rows, long micros) {
		return Mono.deferContextual(context -> Mono.<Void>create(sink -> {
			Disposable subscription = rows.contextWrite(context).subscribe(row -> {
			}, error -> {
			});
			Schedulers.parallel().schedule(() -> {
				subscription.dispose();
				sink.success();
			}, micros, TimeUnit.MICROSECONDS);
		}));
	}
}
