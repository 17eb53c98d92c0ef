package dev.switchboard.api;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class ReadAfterWritePinTest {

	@Test
	void readsStayReadsUntilAWritePasses() {
		ReadAfterWritePin pin = new ReadAfterWritePin();

		assertThat(pin.apply(AccessIntent.READ)).isEqualTo(AccessIntent.READ);
		assertThat(pin.apply(AccessIntent.READ)).isEqualTo(AccessIntent.READ);
		assertThat(pin.isTripped()).isFalse();
	}

	@Test
	void readAfterWriteIsServedByThePrimary() {
		ReadAfterWritePin pin = new ReadAfterWritePin();

		assertThat(pin.apply(AccessIntent.WRITE)).isEqualTo(AccessIntent.WRITE);
		assertThat(pin.apply(AccessIntent.READ)).isEqualTo(AccessIntent.WRITE);
		assertThat(pin.isTripped()).isTrue();
	}

	@Test
	void unknownIntentGoesToThePrimaryAndTripsThePin() {
		ReadAfterWritePin pin = new ReadAfterWritePin();

		assertThat(pin.apply(null)).isEqualTo(AccessIntent.WRITE);
		assertThat(pin.apply(AccessIntent.READ)).isEqualTo(AccessIntent.WRITE);
	}

	@Test
	void explicitTripPinsLaterReads() {
		ReadAfterWritePin pin = new ReadAfterWritePin();
		pin.trip();

		assertThat(pin.apply(AccessIntent.READ)).isEqualTo(AccessIntent.WRITE);
	}

	@Test
	void aWriteOnOneThreadPinsReadsOnEveryOtherThread() throws Exception {
		int readers = 4;
		for (int round = 0; round < 200; round++) {
			ReadAfterWritePin pin = new ReadAfterWritePin();
			CountDownLatch written = new CountDownLatch(1);
			ExecutorService pool = Executors.newFixedThreadPool(readers + 1);
			try {
				Future<?> writer = pool.submit(() -> {
					pin.apply(AccessIntent.WRITE);
					written.countDown();
				});
				Future<?>[] reads = new Future<?>[readers];
				for (int i = 0; i < readers; i++) {
					reads[i] = pool.submit(() -> {
						written.await();
						return pin.apply(AccessIntent.READ);
					});
				}
				writer.get(5, TimeUnit.SECONDS);
				for (Future<?> read : reads) {
					assertThat(read.get(5, TimeUnit.SECONDS)).isEqualTo(AccessIntent.WRITE);
				}
			}
			finally {
				pool.shutdownNow();
			}
		}
	}
}
