package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;

/**
 * The exchanges of one connection that still run after their subscriber cancelled (a
 * {@link CancelShield} lets them run to their end), and the release that waits for them: a
 * connection goes back to its pool only when none runs, so that its next borrower never submits
 * an exchange while the last borrower's is still on the wire.
 *
 * <p>Two submitters at once are what r2dbc-mysql 1.4.3's {@code RequestQueue} does not survive:
 * when one exchange ends just as another is offered, the queue can run the second while marked
 * idle, and a third then runs beside it on the same connection. Counting costs nothing on an
 * exchange that is not cancelled; a cancelled one costs two atomic additions, and the first on a
 * connection one small object.
 *
 * <p>Subclassed by what holds one connection ({@link RoutedConnection}, the causal wait), so that
 * the hot path allocates nothing more; the probe uses an instance of its own.
 */
class Drains {

	private static final AtomicReferenceFieldUpdater<Drains, Count> COUNT =
			AtomicReferenceFieldUpdater.newUpdater(Drains.class, Count.class, "count");

	/** Made by the first cancel that leaves an exchange running: one field on the routing path. */
	private volatile @Nullable Count count;

	/** A cancelled exchange goes on running. */
	final void started() {
		Count count = this.count;
		if (count == null) {
			count = new Count();
			if (!COUNT.compareAndSet(this, null, count)) {
				count = this.count;
			}
		}
		count.started();
	}

	/** A cancelled exchange has ended; the last one lets the waiting releases go. */
	final void ended() {
		// Made by started(), which the same exchange called before.
		this.count.ended();
	}

	/** Whether no cancelled exchange runs. */
	final boolean quiet() {
		Count count = this.count;
		return count == null || count.running == 0;
	}

	/**
	 * Subscribe to {@code release} once no cancelled exchange runs: at once when none does,
	 * else when the last one ends, on the thread where it ended.
	 * @param release the connection's release
	 * @return the release, deferred until the connection is quiet
	 */
	final Mono<Void> whenQuiet(Mono<Void> release) {
		return Mono.defer(() -> {
			if (quiet()) {
				return release;
			}
			// Not quiet: a cancel made the count.
			Count count = this.count;
			return Mono.<Void>create(sink -> count.whenQuiet(sink::success)).then(release);
		});
	}

	private static final class Count {

		private static final AtomicIntegerFieldUpdater<Count> RUNNING =
				AtomicIntegerFieldUpdater.newUpdater(Count.class, "running");

		private static final AtomicReferenceFieldUpdater<Count, Runnable> WAITING =
				AtomicReferenceFieldUpdater.newUpdater(Count.class, Runnable.class, "waiting");

		/** Cancelled exchanges that have not ended yet. */
		volatile int running;

		/** What waits for {@link #running} to reach zero: a release, or several chained. */
		private volatile @Nullable Runnable waiting;

		void started() {
			RUNNING.incrementAndGet(this);
		}

		void ended() {
			if (RUNNING.decrementAndGet(this) == 0) {
				runWaiting();
			}
		}

		void whenQuiet(Runnable mine) {
			for (;;) {
				Runnable before = this.waiting;
				Runnable next = before == null ? mine : () -> {
					before.run();
					mine.run();
				};
				if (WAITING.compareAndSet(this, before, next)) {
					break;
				}
			}
			// The last exchange may have ended between the caller's look and the wait just set.
			if (this.running == 0) {
				runWaiting();
			}
		}

		private void runWaiting() {
			Runnable next = this.waiting;
			if (next != null && WAITING.compareAndSet(this, next, null)) {
				next.run();
			}
		}
	}
}
