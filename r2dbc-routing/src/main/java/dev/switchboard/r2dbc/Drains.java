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
 * exchange that is not cancelled; a cancelled one costs two atomic additions.
 *
 * <p>Subclassed by what holds one connection ({@link RoutedConnection}, the causal wait), so that
 * the hot path allocates nothing more; the probe uses an instance of its own.
 */
class Drains {

	private static final AtomicIntegerFieldUpdater<Drains> RUNNING =
			AtomicIntegerFieldUpdater.newUpdater(Drains.class, "running");

	private static final AtomicReferenceFieldUpdater<Drains, Runnable> WAITING =
			AtomicReferenceFieldUpdater.newUpdater(Drains.class, Runnable.class, "waiting");

	/** Cancelled exchanges that have not ended yet. */
	private volatile int running;

	/** What waits for {@link #running} to reach zero: a release, or several chained. */
	private volatile @Nullable Runnable waiting;

	/** A cancelled exchange goes on running. */
	final void started() {
		RUNNING.incrementAndGet(this);
	}

	/** A cancelled exchange has ended; the last one lets the waiting release go. */
	final void ended() {
		if (RUNNING.decrementAndGet(this) == 0) {
			runWaiting();
		}
	}

	/** Whether no cancelled exchange runs. */
	final boolean quiet() {
		return this.running == 0;
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
			return Mono.<Void>create(sink -> {
				Runnable mine = sink::success;
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
				// The last exchange may have ended between the look above and the wait just set.
				if (quiet()) {
					runWaiting();
				}
			}).then(release);
		});
	}

	private void runWaiting() {
		Runnable next = this.waiting;
		if (next != null && WAITING.compareAndSet(this, next, null)) {
			next.run();
		}
	}
}
