package dev.switchboard.r2dbc.test;

import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Writes under load while a fault topology's primary is stopped hard, then counts on the restarted
 * primary, with a plain connection, what the writers were told: every failure carries a
 * {@link DataError}, no acknowledged row is missing, and every row there was acknowledged or
 * reported {@link DataError.Kind#OUTCOME_UNKNOWN}, never as a failure a caller may retry blindly.
 * One home for the in-doubt checks of the facade's and of Spring's paths.
 */
public final class InDoubtLoad {

	private final Set<String> acknowledged = ConcurrentHashMap.newKeySet();

	private final Set<String> unknown = ConcurrentHashMap.newKeySet();

	private final Set<String> failed = ConcurrentHashMap.newKeySet();

	private final Map<DataError.Kind, AtomicInteger> kinds = new ConcurrentHashMap<>();

	private final Map<String, Throwable> failures = new ConcurrentHashMap<>();

	private final List<Throwable> unclassified = new CopyOnWriteArrayList<>();

	private final AtomicInteger attempts = new AtomicInteger();

	private InDoubtLoad() {
	}

	/**
	 * Run the load, stop the primary under it, start it again, count and assert.
	 * @param label names the run in the printed line
	 * @param fault the fault topology
	 * @param kind the engine whose primary is stopped
	 * @param table a table of ids, created on the topology
	 * @param write writes one id; its failure is what its caller would be told
	 */
	public static void run(String label, FaultTopology fault, Topology.Kind kind, String table,
			Function<String, Mono<?>> write) {
		new InDoubtLoad().load(label, fault, kind, table, write);
	}

	private void load(String label, FaultTopology fault, Topology.Kind kind, String table,
			Function<String, Mono<?>> write) {
		Topology.Engine engine = fault.topology().engine(kind);
		AtomicBoolean running = new AtomicBoolean(true);
		// Not UUID.randomUUID(): SecureRandom may block, and BlockHound watches these threads.
		String prefix = label.replaceAll("[^A-Za-z]", "") + "-" + System.nanoTime() + "-";
		Disposable load = Flux.range(0, Integer.MAX_VALUE)
				.takeWhile(i -> running.get())
				.flatMap(i -> {
					String id = prefix + i;
					this.attempts.incrementAndGet();
					return write.apply(id)
							.doOnSuccess(result -> this.acknowledged.add(id))
							.onErrorResume(failure -> {
								record(id, failure);
								return Mono.empty();
							});
				}, 16)
				.subscribe();
		try {
			Await.until(Duration.ofSeconds(30), () -> this.acknowledged.size() >= 500);
		}
		catch (AssertionError slow) {
			running.set(false);
			throw new AssertionError("the load did not get going: " + this.attempts.get() + " writes, "
					+ this.acknowledged.size() + " acknowledged, failures " + this.kinds + ", unclassified "
					+ this.unclassified, slow);
		}
		fault.kill(engine.primary());
		Await.until(Duration.ofSeconds(20), () -> !this.failed.isEmpty() || !this.unknown.isEmpty());
		running.set(false);
		Await.until(Duration.ofSeconds(30), load::isDisposed);
		fault.start(engine.primary());
		verify(label, kind, Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT id FROM " + table + " WHERE id LIKE '" + prefix + "%'"));
	}

	private void record(String id, Throwable failure) {
		this.failures.put(id, failure);
		DataError error = DataError.find(failure);
		if (error == null) {
			this.unclassified.add(failure);
		}
		else {
			this.kinds.computeIfAbsent(error.kind(), k -> new AtomicInteger()).incrementAndGet();
		}
		(error != null && error.kind() == DataError.Kind.OUTCOME_UNKNOWN ? this.unknown : this.failed).add(id);
	}

	private void verify(String label, Topology.Kind kind, List<Map<String, Object>> rows) {
		Set<String> present = new HashSet<>();
		rows.forEach(row -> present.add((String) row.get("id")));
		Set<String> missing = new HashSet<>(this.acknowledged);
		missing.removeAll(present);
		Set<String> appliedButFailed = new HashSet<>(this.failed);
		appliedButFailed.retainAll(present);
		Set<String> appliedInDoubt = new HashSet<>(this.unknown);
		appliedInDoubt.retainAll(present);
		Map<DataError.Kind, Integer> byKind = new HashMap<>();
		this.kinds.forEach((k, n) -> byKind.put(k, n.get()));
		System.out.printf("%s %s: %d writes, %d acknowledged, failures by kind %s, %d outcome unknown (%d of them"
				+ " applied), %d unclassified; acknowledged but missing %d, applied but reported failed %d%n", label, kind,
				this.attempts.get(), this.acknowledged.size(), byKind, this.unknown.size(), appliedInDoubt.size(),
				this.unclassified.size(), missing.size(), appliedButFailed.size());
		appliedButFailed.forEach(id -> this.failures.get(id).printStackTrace(System.out));

		assertThat(this.unclassified).as("every failure carries a DataError").isEmpty();
		assertThat(missing).as("acknowledged rows missing on the primary").isEmpty();
		assertThat(appliedButFailed).as("applied rows whose write was reported as a plain failure").isEmpty();
		present.removeAll(this.acknowledged);
		present.removeAll(this.unknown);
		assertThat(present).as("rows on the primary nobody was told about").isEmpty();
	}
}
