package dev.switchboard.r2dbc;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import reactor.blockhound.BlockingOperationError;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * BlockHound is installed in the test JVM (by blockhound-junit-platform): a blocking call on a
 * Reactor thread fails every test that makes one.
 */
class BlockHoundTest {

	@Test
	void blockingOnAReactorThreadIsDetected() {
		Mono<String> sleeping = Mono.fromCallable(() -> {
			Thread.sleep(1);
			return "";
		}).subscribeOn(Schedulers.parallel());

		assertThatThrownBy(() -> sleeping.block(Duration.ofSeconds(5)))
				.hasCauseInstanceOf(BlockingOperationError.class);
	}
}
