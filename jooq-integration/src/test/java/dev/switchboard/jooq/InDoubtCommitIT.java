package dev.switchboard.jooq;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
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
 * The primary stopped hard under write load, on the fault topology: a write whose answer was lost
 * may have been applied. Counted afterwards on the primary itself, outside the framework: every
 * acknowledged row is there, every row there was acknowledged or reported
 * {@link DataError.Kind#OUTCOME_UNKNOWN} (never as a failure a caller may retry blindly), and every
 * failure is a {@link DataError}. Through the facade's transactions and its autocommit writes.
 */
class InDoubtCommitIT {

	static final String TABLE = "in_doubt_rows";

	static FaultTopology fault;

	RoutingConnectionFactory routing;

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

	TenantDatabase build(Topology.Kind kind) {
		Topology.Engine engine = fault.topology().engine(kind);
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder("doubt-" + kind.name().toLowerCase())
				.primary(engine.url(engine.primary()))
				.probeInterval(Duration.ofMillis(200))
				.pool(pool -> pool.initialSize(0).maxSize(16).maxAcquireTime(Duration.ofSeconds(2))
						.maxCreateConnectionTime(Duration.ofSeconds(2)))
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(dataSource)
				.tenant("doubt", dataSource.name()).build());
		return RoutedDsl.builder(this.routing)
				.dialect(dataSource.name(), kind == Topology.Kind.POSTGRESQL ? SQLDialect.POSTGRES : SQLDialect.MARIADB)
				.build()
				.database();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aWriteWhoseAnswerWasLostIsReportedAsOutcomeUnknownAndNoAcknowledgedRowIsMissing(Topology.Kind kind) {
		TenantDatabase db = build(kind);
		Topology.Engine engine = fault.topology().engine(kind);
		Function<String, Mono<Integer>> inTransaction = id -> db.transactional(dsl -> Mono.from(
				dsl.insertInto(DSL.table(TABLE)).columns(DSL.field("id", String.class)).values(id))).last();
		Function<String, Mono<Integer>> autocommit = id -> db.execute(dsl -> dsl.insertInto(DSL.table(TABLE))
				.columns(DSL.field("id", String.class)).values(id));

		Set<String> acknowledged = ConcurrentHashMap.newKeySet();
		Set<String> unknown = ConcurrentHashMap.newKeySet();
		Set<String> failed = ConcurrentHashMap.newKeySet();
		Map<DataError.Kind, AtomicInteger> kinds = new ConcurrentHashMap<>();
		List<Throwable> unclassified = new java.util.concurrent.CopyOnWriteArrayList<>();
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicInteger attempts = new AtomicInteger();
		String prefix = kind.name().charAt(0) + "-" + System.nanoTime() + "-";
		Disposable load = Flux.range(0, Integer.MAX_VALUE)
				.takeWhile(i -> running.get())
				.flatMap(i -> {
					// Not UUID.randomUUID(): SecureRandom may block, and BlockHound watches these threads.
					String id = prefix + i;
					attempts.incrementAndGet();
					return (i % 2 == 0 ? inTransaction : autocommit).apply(id)
							.contextWrite(RoutingContext.forTenant("doubt"))
							.doOnNext(count -> acknowledged.add(id))
							.onErrorResume(failure -> {
								DataError error = DataError.find(failure);
								if (error == null) {
									unclassified.add(failure);
								}
								else {
									kinds.computeIfAbsent(error.kind(), k -> new AtomicInteger()).incrementAndGet();
								}
								(error != null && error.kind() == DataError.Kind.OUTCOME_UNKNOWN ? unknown : failed).add(id);
								return Mono.empty();
							});
				}, 16)
				.subscribe();
		try {
			Await.until(Duration.ofSeconds(20), () -> acknowledged.size() >= 500);
		}
		catch (AssertionError slow) {
			running.set(false);
			throw new AssertionError("the load did not get going: " + attempts.get() + " writes, " + acknowledged.size()
					+ " acknowledged, failures " + kinds + ", unclassified " + unclassified, slow);
		}
		fault.kill(engine.primary());
		Await.until(Duration.ofSeconds(20), () -> !failed.isEmpty() || !unknown.isEmpty());
		running.set(false);
		Await.until(Duration.ofSeconds(30), load::isDisposed);
		fault.start(engine.primary());

		Set<String> present = new HashSet<>();
		for (Map<String, Object> row : Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT id FROM " + TABLE + " WHERE id LIKE '" + prefix + "%'")) {
			present.add((String) row.get("id"));
		}
		Set<String> missing = new HashSet<>(acknowledged);
		missing.removeAll(present);
		Set<String> presentButReportedFailed = new HashSet<>(failed);
		presentButReportedFailed.retainAll(present);
		Set<String> unknownAndPresent = new HashSet<>(unknown);
		unknownAndPresent.retainAll(present);
		System.out.printf("in doubt %s: %d writes, %d acknowledged, %d failed by kind %s, %d outcome unknown (%d of"
				+ " them applied), %d unclassified; acknowledged but missing %d, applied but reported failed %d%n", kind,
				attempts.get(), acknowledged.size(), failed.size(), kinds, unknown.size(), unknownAndPresent.size(),
				unclassified.size(), missing.size(), presentButReportedFailed.size());

		assertThat(unclassified).as("every failure is a DataError").isEmpty();
		assertThat(missing).as("acknowledged rows missing on the primary").isEmpty();
		assertThat(presentButReportedFailed).as("applied rows whose write was reported as a plain failure").isEmpty();
		present.removeAll(acknowledged);
		present.removeAll(unknown);
		assertThat(present).as("rows on the primary nobody was told about").isEmpty();
	}
}
