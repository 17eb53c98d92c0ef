package dev.switchboard.api;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;

import org.jspecify.annotations.Nullable;

/**
 * Per-request protection against replica lag: once a write has been routed through this pin,
 * every later read is served by the primary.
 *
 * <p>The pin is a single atomic flag that only ever goes from unset to set, so a volatile store
 * is enough: no compare-and-set, no lock. Create one per request, as
 * {@link RoutingContext#forTenant(String)} does for every subscription; never share one between
 * requests, or one request's write would pin another's reads.
 *
 * <p>For datasources in {@link ReadConsistency#CAUSAL} mode the pin also keeps the request's
 * {@link CausalToken}: the primary's position after the request's last committed write, or the
 * token the request came with. Reads that may use it go to a replica that has replayed it. Tokens
 * merge with a compare-and-set, so that concurrent writes of one request keep the latest position.
 */
public final class ReadAfterWritePin {

	private static final AtomicReferenceFieldUpdater<ReadAfterWritePin, CausalToken> TOKEN =
			AtomicReferenceFieldUpdater.newUpdater(ReadAfterWritePin.class, CausalToken.class, "token");

	private volatile boolean tripped;

	private volatile @Nullable CausalToken token;

	private static final AtomicIntegerFieldUpdater<ReadAfterWritePin> PENDING =
			AtomicIntegerFieldUpdater.newUpdater(ReadAfterWritePin.class, "pending");

	/** Connections to a causal primary handed out and not yet released: their position is unknown. */
	private volatile int pending;

	/**
	 * Return the intent the statement must be routed with, recording writes as they pass.
	 * @param intent the intent of the statement, or {@code null} when it is unknown
	 * @return {@link AccessIntent#WRITE} for a write, an unknown intent, or any read after a write;
	 * {@link AccessIntent#READ} otherwise
	 */
	public AccessIntent apply(@Nullable AccessIntent intent) {
		if (intent == AccessIntent.READ) {
			return this.tripped ? AccessIntent.WRITE : AccessIntent.READ;
		}
		trip();
		return AccessIntent.WRITE;
	}

	/**
	 * Send every later read of this request to the primary, for example after a commit.
	 */
	public void trip() {
		// Reading first avoids invalidating the cache line on every write of a write-heavy request.
		if (!this.tripped) {
			this.tripped = true;
		}
	}

	/**
	 * Tell whether a write has passed through this pin.
	 * @return {@code true} once tripped
	 */
	public boolean isTripped() {
		return this.tripped;
	}

	/**
	 * Record a position the request's later reads must see: after one of its writes committed, or
	 * as received from a client. Merged with the position already kept.
	 * @param observed the token
	 */
	public void observe(CausalToken observed) {
		CausalToken current;
		CausalToken merged;
		do {
			current = this.token;
			merged = current == null ? observed : current.merge(observed);
			if (merged == current) {
				return;
			}
		}
		while (!TOKEN.compareAndSet(this, current, merged));
	}

	/**
	 * Record that a connection to a causal primary was handed to the request: until it is released
	 * and its position read ({@link #positionSettled()}), the request's token may be behind its
	 * writes, so its reads go to the primary.
	 */
	public void positionPending() {
		PENDING.incrementAndGet(this);
	}

	/**
	 * Record that a connection counted by {@link #positionPending()} was released, after its
	 * position, if any, was {@link #observe observed}.
	 */
	public void positionSettled() {
		PENDING.decrementAndGet(this);
	}

	/**
	 * Tell whether a connection to a causal primary is still out, so that the token may not cover
	 * the request's writes yet.
	 * @return {@code true} while such a connection is out
	 */
	public boolean isPositionPending() {
		return this.pending > 0;
	}

	/**
	 * Return the position the request's reads must see, if any.
	 * @return the token, or {@code null} when the request has neither written in causal mode nor
	 * brought a token
	 */
	public @Nullable CausalToken token() {
		return this.token;
	}

	@Override
	public String toString() {
		CausalToken current = this.token;
		return "ReadAfterWritePin[" + (this.tripped ? "tripped" : "clear") + (current != null ? ", " + current : "") + "]";
	}
}
