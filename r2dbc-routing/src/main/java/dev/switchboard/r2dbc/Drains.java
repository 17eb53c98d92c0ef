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
 * <p>A connection made for a transaction is <em>fenced</em> ({@link #fence()}): every exchange is
 * counted from its start, and once the transaction ends ({@link #seal()}) no new exchange is
 * admitted. Its commit or rollback waits until the admitted ones have ended. So a statement that
 * a cancelled transaction's work submits late (jOOQ may still run a query whose subscription was
 * cancelled, and Reactor may subscribe the next step of a chain while the cancel travels) is
 * refused instead of running after the rollback, in autocommit; and a rollback is never sent while
 * the {@code BEGIN} it ends is still on the wire, where r2dbc-postgresql would skip it as "no
 * transaction in progress" and hand the connection back to the pool inside a transaction.
 *
 * <p>Two submitters at once are what r2dbc-mysql 1.4.3's {@code RequestQueue} does not survive:
 * when one exchange ends just as another is offered, the queue can run the second while marked
 * idle, and a third then runs beside it on the same connection. Outside a transaction, counting
 * costs nothing on an exchange that is not cancelled; a cancelled one costs two atomic additions,
 * and the first on a connection one small object. Inside one, every exchange costs a
 * compare-and-set and a decrement.
 *
 * <p>Subclassed by what holds one connection ({@link RoutedConnection}, the causal wait), so that
 * the hot path allocates nothing more; the probe uses an instance of its own.
 */
class Drains {

	private static final AtomicReferenceFieldUpdater<Drains, Count> COUNT =
			AtomicReferenceFieldUpdater.newUpdater(Drains.class, Count.class, "count");

	/** {@link #admit()}: the exchange may start and is not counted. */
	static final int UNCOUNTED = 0;

	/** {@link #admit()}: the exchange may start and is counted until it ends. */
	static final int COUNTED = 1;

	/** {@link #admit()}: the connection was sealed; the exchange must not start. */
	static final int REFUSED = -1;

	/**
	 * Made by the first cancel that leaves an exchange running, or by {@link #fence()} (a
	 * transaction): one field on the routing path. It also holds the transaction's state, so that
	 * the connection itself stays small.
	 */
	private volatile @Nullable Count count;

	/** Set by {@link #seal()} while no {@link #count} exists, so that sealing allocates nothing. */
	private volatile boolean sealed;

	/**
	 * Count every exchange from its start: called before a connection made for a transaction is
	 * handed out, or when a transaction begins on any connection, so that its release waits for
	 * every exchange admitted before it.
	 */
	final void fence() {
		Count count = this.count;
		if (count == null) {
			count = new Count(true);
			if (COUNT.compareAndSet(this, null, count)) {
				if (this.sealed) {
					count.seal();
				}
				return;
			}
			count = this.count;
		}
		// Made by a cancel before: count from now on too. Exchanges admitted before were not counted.
		count.fenced = true;
	}

	/**
	 * Fence a connection made for one transaction, before it is handed out: its end will seal it.
	 * Kept here, with the count, rather than in fields of the connection: the routing path's one
	 * object stays at 56 bytes.
	 */
	final void fenceForTransaction() {
		Count count = new Count(true);
		count.owned = true;
		this.count = count;
	}

	/** Whether this connection was made for one transaction ({@link #fenceForTransaction()}). */
	final boolean ownsTransaction() {
		Count count = this.count;
		return count != null && count.owned;
	}

	/** Whether a transaction began and has not ended yet. */
	final boolean inTransaction() {
		Count count = this.count;
		return count != null && count.inTransaction;
	}

	/**
	 * A transaction begins or ends. Beginning fences the connection: its release waits for every
	 * exchange of the transaction that was admitted.
	 */
	final void inTransaction(boolean inside) {
		if (inside) {
			fence();
		}
		Count count = this.count;
		if (count != null) {
			count.inTransaction = inside;
		}
	}

	/** The reason the transaction may only roll back, or {@code null}. */
	final @Nullable Object rollbackOnly() {
		Count count = this.count;
		return count != null ? count.rollbackOnly : null;
	}

	/** Let the running transaction only roll back; nothing to remember outside a transaction. */
	final void rollbackOnly(Object reason) {
		Count count = this.count;
		if (count != null) {
			count.rollbackOnly = reason;
		}
	}

	/** The failure of the commit whose outcome is unknown, or {@code null}. */
	final @Nullable Object inDoubt() {
		Count count = this.count;
		return count != null ? count.inDoubt : null;
	}

	/** Remember that the transaction's commit was in flight when its connection was lost. */
	final void inDoubt(Object failure) {
		Count count = this.count;
		if (count != null) {
			count.inDoubt = failure;
		}
	}

	/**
	 * Ask whether an exchange may start: one volatile read where nothing was ever cancelled,
	 * fenced or sealed.
	 * @return {@link #UNCOUNTED}, {@link #COUNTED} (the caller calls {@link #ended()} when it
	 * ends) or {@link #REFUSED}
	 */
	final int admit() {
		Count count = this.count;
		if (count == null) {
			return this.sealed ? REFUSED : UNCOUNTED;
		}
		return count.admit(false);
	}

	/**
	 * Admit the exchange that ends a transaction (commit, rollback): never refused, counted in a
	 * fence so that the release waits for it.
	 * @return {@link #UNCOUNTED} or {@link #COUNTED}
	 */
	final int admitEnd() {
		Count count = this.count;
		return count == null ? UNCOUNTED : count.admit(true);
	}

	/**
	 * Admit no exchange from now on, except the end of the transaction.
	 */
	final void seal() {
		// Set, then read: a count made meanwhile by started(), which sets, then reads, is sealed by one of the two.
		this.sealed = true;
		Count count = this.count;
		if (count != null) {
			count.seal();
		}
	}

	/**
	 * The failure of an exchange refused after {@link #seal()}.
	 * @return the failure to signal
	 */
	Throwable refusal() {
		return new IllegalStateException("the connection was closed or its transaction ended; nothing was sent");
	}

	/** A cancelled exchange goes on running. */
	final void started() {
		Count count = this.count;
		if (count == null) {
			count = new Count(false);
			if (!COUNT.compareAndSet(this, null, count)) {
				count = this.count;
			}
			else if (this.sealed) {
				count.seal();
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
		return count == null || count.quiet();
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

		/** Set in {@link #running} once the connection admits no new exchange. */
		private static final int SEALED = 1 << 30;

		/** Whether every exchange is counted from its start, not only cancelled ones; set once. */
		private volatile boolean fenced;

		/** The connection was made for one transaction: its end seals it. */
		private volatile boolean owned;

		/** Between a {@code BEGIN} and the end of its transaction. */
		private volatile boolean inTransaction;

		/** A refused statement for another tenant: the transaction may only roll back. */
		private volatile @Nullable Object rollbackOnly;

		/** The failure of a commit whose outcome is unknown: no rollback can tell more. */
		private volatile @Nullable Object inDoubt;

		/** Counted exchanges that have not ended yet, and the {@link #SEALED} bit. */
		private volatile int running;

		/** What waits for {@link #running} to reach zero: a release, or several chained. */
		private volatile @Nullable Runnable waiting;

		Count(boolean fenced) {
			this.fenced = fenced;
		}

		void started() {
			RUNNING.incrementAndGet(this);
		}

		int admit(boolean end) {
			for (;;) {
				int now = this.running;
				if (!end && (now & SEALED) != 0) {
					return REFUSED;
				}
				if (!this.fenced) {
					return UNCOUNTED;
				}
				// A CAS, not an increment: the count must not grow once sealed, or the end would wait
				// for an exchange that was refused.
				if (RUNNING.compareAndSet(this, now, now + 1)) {
					return COUNTED;
				}
			}
		}

		void seal() {
			for (;;) {
				int now = this.running;
				if ((now & SEALED) != 0 || RUNNING.compareAndSet(this, now, now | SEALED)) {
					return;
				}
			}
		}

		boolean quiet() {
			return (this.running & ~SEALED) == 0;
		}

		void ended() {
			if ((RUNNING.decrementAndGet(this) & ~SEALED) == 0) {
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
			if (quiet()) {
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
