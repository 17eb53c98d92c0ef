package dev.switchboard.api;

import org.jspecify.annotations.Nullable;

/**
 * Per-request protection against replica lag: once a write has been routed through this pin,
 * every later read is served by the primary.
 *
 * <p>The pin is a single atomic flag that only ever goes from unset to set, so a volatile store
 * is enough: no compare-and-set, no lock. Create one per request, as
 * {@link RoutingContext#forTenant(String)} does for every subscription; never share one between
 * requests, or one request's write would pin another's reads.
 */
public final class ReadAfterWritePin {

	private volatile boolean tripped;

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

	@Override
	public String toString() {
		return this.tripped ? "ReadAfterWritePin[tripped]" : "ReadAfterWritePin[clear]";
	}
}
