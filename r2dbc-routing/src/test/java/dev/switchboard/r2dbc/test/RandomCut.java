package dev.switchboard.r2dbc.test;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.LongAdder;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Cuts a transaction's publisher off at a random point, the ways a caller does: a
 * {@code timeout} of 0-15 ms, {@code next()} (a subscriber that wants one element), or a
 * {@code Disposable} disposed after 0-15 ms. Records which transactions' results reached the
 * subscriber, and the failures other than the cut itself.
 */
public final class RandomCut {

	/** The longest random delay before a cut, in nanoseconds. */
	static final long MAX_DELAY_NANOS = 15_000_000;

	private final Set<String> received = ConcurrentHashMap.newKeySet();

	private final Map<String, LongAdder> failures = new ConcurrentHashMap<>();

	private final Map<String, LongAdder> cuts = new ConcurrentHashMap<>();

	private final Map<String, String> samples = new ConcurrentHashMap<>();

	private final boolean next;

	private RandomCut(boolean next) {
		this.next = next;
	}

	/**
	 * Cut with a timeout, {@code next()} or a dispose.
	 * @return a new recorder
	 */
	public static RandomCut withNext() {
		return new RandomCut(true);
	}

	/**
	 * Cut with a timeout or a dispose only, for publishers where {@code next()} has nothing to
	 * cut (they emit once, after their end).
	 * @return a new recorder
	 */
	public static RandomCut timeoutOrDispose() {
		return new RandomCut(false);
	}

	/**
	 * Subscribe to {@code transaction} and cut it off at random; the returned {@code Mono}
	 * completes when the caller has its answer (an element, the cut, or an error), never with an
	 * error.
	 * @param id the transaction's id, recorded when an element reaches the subscriber
	 * @param transaction the transaction
	 * @return the caller's side of the run
	 */
	public Mono<Void> run(String id, Flux<?> transaction) {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		Duration delay = Duration.ofNanos(random.nextLong(MAX_DELAY_NANOS));
		int way = random.nextInt(this.next ? 3 : 2);
		Flux<?> seen = transaction.doOnNext(element -> this.received.add(id));
		return switch (way) {
			case 0 -> {
				count(this.cuts, "timeout");
				yield seen.timeout(delay).then().onErrorResume(this::failed);
			}
			case 1 -> {
				count(this.cuts, "dispose");
				yield Mono.create(sink -> {
					// The caller's Reactor Context (its tenant) goes with the subscription, as subscribe() would not carry it.
					Disposable running = seen.contextWrite(sink.contextView()).subscribe(element -> {
					}, failure -> {
						failed(failure);
						sink.success();
					}, sink::success);
					Schedulers.parallel().schedule(() -> {
						running.dispose();
						sink.success();
					}, delay.toNanos(), TimeUnit.NANOSECONDS);
				});
			}
			default -> {
				count(this.cuts, "next");
				yield seen.next().then().onErrorResume(this::failed);
			}
		};
	}

	private Mono<Void> failed(Throwable failure) {
		if (!(failure instanceof TimeoutException)) {
			String name = failure.getClass().getSimpleName();
			if (failure instanceof dev.switchboard.api.DataError error) {
				name = "DataError " + error.kind();
			}
			count(this.failures, name);
			this.samples.putIfAbsent(name, String.valueOf(failure.getMessage()).lines().findFirst().orElse(""));
		}
		return Mono.empty();
	}

	private static void count(Map<String, LongAdder> counts, String key) {
		counts.computeIfAbsent(key, k -> new LongAdder()).increment();
	}

	/**
	 * Return the ids whose result reached the subscriber.
	 * @return the ids
	 */
	public Set<String> received() {
		return this.received;
	}

	/**
	 * Return the failures other than the cut, by kind and first message line, for the report.
	 * @return the failures
	 */
	public Map<String, LongAdder> failures() {
		return this.failures;
	}

	@Override
	public String toString() {
		return "cuts " + this.cuts + ", failures " + this.failures + (this.samples.isEmpty() ? "" : ", e.g. " + this.samples);
	}
}
