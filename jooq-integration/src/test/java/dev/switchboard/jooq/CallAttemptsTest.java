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
