package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import org.jspecify.annotations.Nullable;
import reactor.util.context.ContextView;

/**
 * What one {@link TenantDatabase} call tells the {@link DeferredConnection}s of its pipeline: that
 * its subscriber cancelled, and what the query object it runs is.
 *
 * <p>jOOQ can still run a query whose subscription was cancelled before the query took its
 * connection, and then never closes that connection. The facade marks the call cancelled before
 * the cancel reaches jOOQ; a deferred connection that sees it acquires nothing, and one that
 * arrives after it is closed at once.
 *
 * <p>{@code query} and {@code execute} hold their query object before they run it: they note its
 * {@link IntentInference#candidate candidate} intent here, and the connection of their context
 * refines it with the SQL it receives, without the visit listener that the plain routed
 * {@code DSLContext} needs to see the query object. One object per call, put into the Reactor
 * Context once.
 */
final class FacadeCall {

	private final @Nullable AccessIntent candidate;

	private volatile boolean cancelled;

	/**
	 * @param candidate the intent of the call's query object, or {@code null} if the call does not
	 * run one query of its own (its contexts have a fixed intent)
	 */
	FacadeCall(@Nullable AccessIntent candidate) {
		this.candidate = candidate;
	}

	void cancel() {
		this.cancelled = true;
	}

	boolean isCancelled() {
		return this.cancelled;
	}

	/**
	 * Return the intent of the call's query object.
	 * @return {@link AccessIntent#READ} for a plain select, {@link AccessIntent#WRITE} for anything
	 * else, {@code null} if the call named none
	 */
	@Nullable AccessIntent candidate() {
		return this.candidate;
	}

	static @Nullable FacadeCall find(ContextView context) {
		return context.getOrDefault(FacadeCall.class, null);
	}
}
