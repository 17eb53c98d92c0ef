package dev.switchboard.spring;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The primary stopped hard under Spring-transaction load, on the fault topology: sixteen
 * {@code TransactionalOperator} transactions of a {@code DatabaseClient} insert at a time. Counted
 * afterwards on the restarted primary with a plain connection: every failure carries a
 * {@link DataError} (Spring wraps it: found with {@link DataError#find}), no acknowledged row is
 * missing, and every row there was acknowledged or reported {@link DataError.Kind#OUTCOME_UNKNOWN}.
 */
class SpringInDoubtCommitIT {

	static final String TABLE = "spring_in_doubt_rows";

	ConfigurableApplicationContext context;

	final FaultTopology fault = FaultTopology.find();

	/** Only auto-configuration: the starter's transaction manager and DatabaseClient. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {
	}

	@AfterEach
	void stop() {
		if (this.context != null) {
			this.context.close();
		}
		this.fault.restore();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aCommitWhoseAnswerWasLostIsReportedAsOutcomeUnknownAndNoAcknowledgedRowIsMissing(Topology.Kind kind) {
		Topology.Engine engine = this.fault.topology().engine(kind);
		this.fault.topology().createIdTable(TABLE);
		this.context = new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
				.properties(Map.of("switchboard.datasources.doubt.primary", engine.url(engine.primary()),
						"switchboard.datasources.doubt.dialect", kind == Topology.Kind.POSTGRESQL ? "POSTGRES" : "MARIADB",
						"switchboard.datasources.doubt.pool.max-size", "16",
						"switchboard.tenants.doubt.datasource", "doubt"))
				.run();
		TransactionalOperator operator = this.context.getBean(TransactionalOperator.class);
		DatabaseClient client = this.context.getBean(DatabaseClient.class);

		Set<String> acknowledged = ConcurrentHashMap.newKeySet();
		Set<String> unknown = ConcurrentHashMap.newKeySet();
		Set<String> failed = ConcurrentHashMap.newKeySet();
		Map<DataError.Kind, AtomicInteger> kinds = new ConcurrentHashMap<>();
		List<Throwable> unclassified = new CopyOnWriteArrayList<>();
		Map<String, Throwable> failures = new ConcurrentHashMap<>();
		AtomicBoolean running = new AtomicBoolean(true);
		AtomicInteger attempts = new AtomicInteger();
		// Not UUID.randomUUID(): SecureRandom may block, and BlockHound watches these threads.
		String prefix = "S" + kind.name().charAt(0) + "-" + System.nanoTime() + "-";
		Disposable load = Flux.range(0, Integer.MAX_VALUE)
				.takeWhile(i -> running.get())
				.flatMap(i -> {
					String id = prefix + i;
					attempts.incrementAndGet();
					return operator.transactional(client.sql("INSERT INTO " + TABLE + " (id) VALUES (:id)").bind("id", id)
									.fetch().rowsUpdated())
							.contextWrite(RoutingContext.forTenant("doubt"))
							.doOnSuccess(count -> acknowledged.add(id))
							.onErrorResume(failure -> {
								failures.put(id, failure);
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
		Await.until(Duration.ofSeconds(30), () -> acknowledged.size() >= 500);
		this.fault.kill(engine.primary());
		Await.until(Duration.ofSeconds(20), () -> !failed.isEmpty() || !unknown.isEmpty());
		running.set(false);
		Await.until(Duration.ofSeconds(30), load::isDisposed);
		this.fault.start(engine.primary());

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
		System.out.printf("spring in doubt %s: %d transactions, %d acknowledged, failures by kind %s, %d outcome unknown"
				+ " (%d of them applied), %d unclassified %s; acknowledged but missing %d, applied but reported failed %d%n",
				kind, attempts.get(), acknowledged.size(), kinds, unknown.size(), unknownAndPresent.size(),
				unclassified.size(), unclassified.stream().limit(2).toList(), missing.size(),
				presentButReportedFailed.size());

		presentButReportedFailed.forEach(id -> failures.get(id).printStackTrace(System.out));
		assertThat(unclassified).as("every failure carries a DataError").isEmpty();
		assertThat(missing).as("acknowledged rows missing on the primary").isEmpty();
		assertThat(presentButReportedFailed).as("applied rows whose transaction was reported as a plain failure").isEmpty();
		present.removeAll(acknowledged);
		present.removeAll(unknown);
		assertThat(present).as("rows on the primary nobody was told about").isEmpty();
	}
}
