package dev.switchboard.api;

import java.io.IOException;
import java.io.UncheckedIOException;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

class DataErrorFindTest {

	static final DataError ERROR = DataError.noHealthyTarget(TenantId.of("acme"), "pg-main", Role.PRIMARY, null);

	@Test
	void nullHasNoDataError() {
		assertThat(DataError.find(null)).isNull();
	}

	@Test
	void aDataErrorIsFoundItself() {
		assertThat(DataError.find(ERROR)).isSameAs(ERROR);
	}

	@Test
	void aDataErrorWrappedSeveralTimesIsFound() {
		// As Spring wraps it: CannotCreateTransactionException(DataAccessResourceFailureException(DataError)).
		Throwable wrapped = new IllegalStateException("cannot create transaction",
				new RuntimeException("resource failure", ERROR));

		assertThat(DataError.find(wrapped)).isSameAs(ERROR);
	}

	@Test
	void theOutermostDataErrorIsFound() {
		DataError outer = new DataError(DataError.Kind.PERMANENT, "outer", "acme", "pg-main", Role.PRIMARY, null, ERROR);

		assertThat(DataError.find(new RuntimeException(outer))).isSameAs(outer);
	}

	@Test
	void aChainWithoutDataErrorHasNone() {
		assertThat(DataError.find(new UncheckedIOException(new IOException("lost")))).isNull();
	}

	@Test
	void aCyclicCauseChainEnds() {
		RuntimeException first = new RuntimeException("first");
		RuntimeException second = new RuntimeException("second", first);
		first.initCause(second);

		assertThat(DataError.find(first)).isNull();
	}

	@Test
	void theSearchIsBoundedInDepth() {
		Throwable deep = ERROR;
		for (int i = 0; i < 40; i++) {
			deep = new RuntimeException("wrapper " + i, deep);
		}

		assertThat(DataError.find(deep)).isNull();
	}

	@Test
	void onErrorResumeCanDecideOnAWrappedDataError() {
		Mono<String> failing = Mono.error(new IllegalStateException("wrapped", ERROR));

		StepVerifier.create(failing.onErrorResume(failure -> {
			DataError error = DataError.find(failure);
			return error != null && error.isTransient() ? Mono.just("retried") : Mono.error(failure);
		})).expectNext("retried").verifyComplete();
	}
}
