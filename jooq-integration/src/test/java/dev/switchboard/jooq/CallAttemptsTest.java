package dev.switchboard.jooq;

import java.util.concurrent.atomic.AtomicInteger;

import dev.switchboard.api.DataError;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.test.StepVerifier;

/**
 * The facade's retry of reads: once, only for a transient error, only before the first element.
 */
class RetryBeforeFirstElementTest {

	static DataError error(DataError.Kind kind) {
		return new DataError(kind, "boom", "acme", "pg-main", null, null, null);
	}

	@Test
	void aTransientFailureBeforeTheFirstRowIsRetriedOnce() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = TenantDatabase.retriedBeforeFirstElement(() -> attempts.incrementAndGet() == 1
				? Flux.error(error(DataError.Kind.TRANSIENT))
				: Flux.just("a", "b"));

		StepVerifier.create(read).expectNext("a", "b").verifyComplete();
		assertAttempts(attempts, 2);
	}

	@Test
	void aFailureAfterTheFirstRowIsNotRetriedSoNoRowIsDuplicated() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = TenantDatabase.retriedBeforeFirstElement(() -> {
			attempts.incrementAndGet();
			return Flux.just("a").concatWith(Flux.error(error(DataError.Kind.TRANSIENT)));
		});

		StepVerifier.create(read).expectNext("a").verifyErrorMatches(e -> ((DataError) e).kind() == DataError.Kind.TRANSIENT);
		assertAttempts(attempts, 1);
	}

	@Test
	void aSecondTransientFailureAndPermanentFailuresAreNotRetried() {
		AtomicInteger attempts = new AtomicInteger();
		StepVerifier.create(TenantDatabase.retriedBeforeFirstElement(() -> {
			attempts.incrementAndGet();
			return Flux.<String>error(error(DataError.Kind.TRANSIENT));
		})).verifyError(DataError.class);
		assertAttempts(attempts, 2);

		AtomicInteger permanent = new AtomicInteger();
		StepVerifier.create(TenantDatabase.retriedBeforeFirstElement(() -> {
			permanent.incrementAndGet();
			return Flux.<String>error(error(DataError.Kind.PERMANENT));
		})).verifyError(DataError.class);
		assertAttempts(permanent, 1);
	}

	@Test
	void aTransientErrorWrappedByJooqIsRecognised() {
		AtomicInteger attempts = new AtomicInteger();
		Flux<String> read = TenantDatabase.retriedBeforeFirstElement(() -> attempts.incrementAndGet() == 1
				? Flux.error(new org.jooq.exception.DataAccessException("wrapped", error(DataError.Kind.TRANSIENT)))
				: Flux.just("a"));

		StepVerifier.create(read).expectNext("a").verifyComplete();
		assertAttempts(attempts, 2);
	}

	static void assertAttempts(AtomicInteger attempts, int expected) {
		org.assertj.core.api.Assertions.assertThat(attempts).hasValue(expected);
	}
}
