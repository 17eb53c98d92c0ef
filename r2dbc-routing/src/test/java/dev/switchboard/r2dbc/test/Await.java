package dev.switchboard.r2dbc.test;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Polls a condition on the test thread until it holds, instead of sleeping for a guessed time.
 */
public final class Await {

	private Await() {
	}

	/**
	 * Wait until {@code condition} holds.
	 * @param timeout how long to keep trying
	 * @param condition the condition, evaluated every 10 ms
	 * @throws AssertionError if it still does not hold after {@code timeout}
	 */
	public static void until(Duration timeout, BooleanSupplier condition) {
		long deadline = System.nanoTime() + timeout.toNanos();
		while (!condition.getAsBoolean()) {
			if (System.nanoTime() > deadline) {
				throw new AssertionError("condition still false after " + timeout);
			}
			try {
				Thread.sleep(10);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new AssertionError("interrupted", ex);
			}
		}
	}
}
