package dev.switchboard.jooq;

import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * Tells the {@link DeferredConnection}s of one {@link TenantDatabase} call that its subscriber
 * cancelled.
 *
 * <p>jOOQ can still run a query whose subscription was cancelled before the query took its
 * connection, and then never closes that connection. The facade sets this token before the cancel
 * reaches jOOQ; a deferred connection that sees it acquires nothing, and one that arrives after
 * it is closed at once.
 */
final class CancellationToken {

	private volatile boolean cancelled;

	void cancel() {
		this.cancelled = true;
	}

	boolean isCancelled() {
		return this.cancelled;
	}

	static @Nullable CancellationToken find(ContextView context) {
		return context.getOrDefault(CancellationToken.class, null);
	}
}
