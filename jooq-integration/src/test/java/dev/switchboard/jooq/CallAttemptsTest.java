package dev.switchboard.jooq;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;
import reactor.test.publisher.TestPublisher;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The facade's attempts: a read retried once, only for a transient error, only before the first
 * element; a call made again once when the tenant moved; the caller's demand carried over; the
 * cancel told to the call before its upstream.
 */
class CallAttemptsTest {

	static DataError error(DataError.Kind kind) {
		return new DataError(kind, "boom", "acme", "pg-main", null, null, null);
	}

	/** A read's attempts: each may be retried after a transient failure. */
	static Flux<String> read(Supplier<Flux<String>> attempt) {
		return CallAttempts.of((context, call) -> {
			call.retryTransient();
			return attempt.get();
		}, true);
	}

	@Test
	void aTransientFailureBeforeTheFirstRowIsRetriedOnce() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = read(() -> attempts.incrementAndGet() == 1
				? Flux.error(error(DataError.Kind.TRANSIENT))
				: Flux.just("a", "b"));

		StepVerifier.create(read).expectNext("a", "b").verifyComplete();
		assertThat(attempts).hasValue(2);
	}

	@Test
	void aFailureAfterTheFirstRowIsNotRetriedSoNoRowIsDuplicated() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = read(() -> {
			attempts.incrementAndGet();
			return Flux.just("a").concatWith(Flux.error(error(DataError.Kind.TENANT_MOVED)));
		});

		StepVerifier.create(read).expectNext("a").verifyErrorMatches(e -> ((DataError) e).kind() == DataError.Kind.TENANT_MOVED);
		assertThat(attempts).hasValue(1);
	}

	@Test
	void aTransientFailureAfterTheFirstRowIsNotRetried() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = read(() -> {
			attempts.incrementAndGet();
			return Flux.just("a").concatWith(Flux.error(error(DataError.Kind.TRANSIENT)));
		});

		StepVerifier.create(read).expectNext("a").verifyErrorMatches(e -> ((DataError) e).kind() == DataError.Kind.TRANSIENT);
		assertThat(attempts).hasValue(1);
	}

	@Test
	void aCheckedExceptionThrownByThePlanReachesTheSubscriber() {
		StepVerifier.create(CallAttempts.<String>of((context, call) -> {
			throw CallAttemptsTest.<RuntimeException>sneaky(new java.io.IOException("planned badly"));
		}, true)).verifyErrorMessage("planned badly");
	}

	@SuppressWarnings("unchecked")
	static <E extends Throwable> E sneaky(Throwable failure) throws E {
		throw (E) failure;
	}

	@Test
	void aRequestMadeWhileTheUpstreamIsAskedWaitsForItAndDoesNotRecurse() {
		int[] depth = { 0, 0 };
		// Emits one element per request, from inside request(): a subscriber that asks for the next
		// element in onNext would make request() recurse into itself without the attempt's serializer.
		Flux<Integer> upstream = Flux.from(subscriber -> subscriber.onSubscribe(new Subscription() {
			int next;

			@Override
			public void request(long n) {
				depth[0]++;
				depth[1] = Math.max(depth[1], depth[0]);
				for (long i = 0; i < n && this.next < 5; i++) {
					subscriber.onNext(this.next++);
				}
				if (this.next == 5) {
					this.next++;
					subscriber.onComplete();
				}
				depth[0]--;
			}

			@Override
			public void cancel() {
			}
		}));
		List<Integer> seen = new ArrayList<>();
		CallAttempts.<Integer>of((context, call) -> upstream, true).subscribe(new BaseSubscriber<>() {
			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				request(1);
			}

			@Override
			protected void hookOnNext(Integer value) {
				seen.add(value);
				request(1);
			}
		});

		assertThat(seen).containsExactly(0, 1, 2, 3, 4);
		assertThat(depth[1]).as("deepest nesting of request()").isEqualTo(1);
	}

	@Test
	void aSecondTransientFailureAndPermanentFailuresAreNotRetried() {
		AtomicInteger attempts = new AtomicInteger();
		StepVerifier.create(read(() -> {
			attempts.incrementAndGet();
			return Flux.<String>error(error(DataError.Kind.TRANSIENT));
		})).verifyError(DataError.class);
		assertThat(attempts).hasValue(2);

		AtomicInteger permanent = new AtomicInteger();
		StepVerifier.create(read(() -> {
			permanent.incrementAndGet();
			return Flux.<String>error(error(DataError.Kind.PERMANENT));
		})).verifyError(DataError.class);
		assertThat(permanent).hasValue(1);
	}

	@Test
	void aTransientFailureIsNotRetriedUnlessTheAttemptSaysSo() {
		AtomicInteger attempts = new AtomicInteger();
		StepVerifier.create(CallAttempts.<String>of((context, call) -> {
			attempts.incrementAndGet();
			return Flux.error(error(DataError.Kind.TRANSIENT));
		}, true)).verifyError(DataError.class);
		assertThat(attempts).hasValue(1);
	}

	@Test
	void aTransientErrorWrappedByJooqIsRecognised() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = read(() -> attempts.incrementAndGet() == 1
				? Flux.error(new org.jooq.exception.DataAccessException("wrapped", error(DataError.Kind.TRANSIENT)))
				: Flux.just("a"));

		StepVerifier.create(read).expectNext("a").verifyComplete();
		assertThat(attempts).hasValue(2);
	}

	@Test
	void aMoveIsRetriedOnceAndGivesTheNewResolutionItsOwnTransientRetry() {
		List<DataError.Kind> failures = List.of(DataError.Kind.TRANSIENT, DataError.Kind.TENANT_MOVED,
				DataError.Kind.TRANSIENT);
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = read(() -> {
			int attempt = attempts.getAndIncrement();
			return attempt < failures.size() ? Flux.error(error(failures.get(attempt))) : Flux.just("a");
		});

		StepVerifier.create(read).expectNext("a").verifyComplete();
		assertThat(attempts).hasValue(4);

		AtomicInteger moved = new AtomicInteger();
		StepVerifier.create(read(() -> {
			moved.incrementAndGet();
			return Flux.<String>error(error(DataError.Kind.TENANT_MOVED));
		})).verifyErrorMatches(e -> ((DataError) e).kind() == DataError.Kind.TENANT_MOVED);
		assertThat(moved).hasValue(2);
	}

	@Test
	void aCallThatDoesNotRetryMovesFailsWithTheMove() {
		AtomicInteger attempts = new AtomicInteger();
		StepVerifier.create(CallAttempts.<String>of((context, call) -> {
			attempts.incrementAndGet();
			return Flux.error(error(DataError.Kind.TENANT_MOVED));
		}, false)).verifyErrorMatches(e -> ((DataError) e).kind() == DataError.Kind.TENANT_MOVED);
		assertThat(attempts).hasValue(1);
	}

	@Test
	void theCallersDemandIsCarriedOverToTheRetryAndNeverExceeded() {
		AtomicInteger attempts = new AtomicInteger();
		List<Long> requests = new ArrayList<>();
		Flux<String> read = read(() -> attempts.incrementAndGet() == 1
				? Flux.<String>error(error(DataError.Kind.TRANSIENT)).doOnRequest(requests::add)
				: Flux.just("a", "b", "c").doOnRequest(requests::add));

		StepVerifier.create(read, 2).expectNext("a", "b").thenRequest(1).expectNext("c").verifyComplete();
		assertThat(requests).containsExactly(2L, 2L, 1L);
	}

	@Test
	void theCallHearsOfTheCancelBeforeItsUpstreamAndSeesItInItsContext() {
		TestPublisher<String> upstream = TestPublisher.create();
		FacadeCall[] guarded = new FacadeCall[1];
		boolean[] cancelledFirst = { false };
		Flux<String> call = CallAttempts.of((context, attempt) -> {
			attempt.guard(AccessIntent.READ, null);
			return Flux.deferContextual(view -> {
				guarded[0] = FacadeCall.find(view);
				return upstream.flux().doOnCancel(() -> cancelledFirst[0] = guarded[0].isCancelled());
			});
		}, true);

		StepVerifier.create(call).then(() -> upstream.next("a")).expectNext("a").thenCancel().verify();
		assertThat(guarded[0]).isNotNull();
		assertThat(guarded[0].candidate()).isEqualTo(AccessIntent.READ);
		assertThat(cancelledFirst[0]).isTrue();
		upstream.assertCancelled();
	}

	@Test
	void aCancelBeforeTheFirstAttemptPlansNothing() {
		AtomicInteger attempts = new AtomicInteger();
		CallAttempts.<String>of((context, call) -> {
			attempts.incrementAndGet();
			return Flux.just("a");
		}, true).subscribe(new BaseSubscriber<>() {
			@Override
			protected void hookOnSubscribe(Subscription subscription) {
				subscription.cancel();
			}
		});
		assertThat(attempts).hasValue(0);
	}
}
