package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
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
 * {@code DSLContext} needs to see the query object. They also name the datasource whose dialect
 * the call rendered for: if the tenant moved to another between the call's resolution and its
 * routing, the statement fails with {@link dev.switchboard.api.DataError#tenantMoved}, unsent.
 * The call's running {@link CallAttempts.Attempt} is its facade call: one object per call, put
 * into the Reactor Context once; each attempt names what it runs.
 */
abstract class FacadeCall {

	private volatile @Nullable AccessIntent candidate;

	/** The datasource whose dialect the attempt's SQL is rendered in, or {@code null} inside a transaction. */
	private volatile @Nullable DataSource dataSource;

	private volatile boolean cancelled;

	/**
	 * Name what the call's current attempt runs.
	 * @param candidate the intent of the attempt's query object, or {@code null} if it does not
	 * run one query of its own (its contexts have a fixed intent)
	 * @param dataSource the datasource the attempt's contexts render for, or {@code null} for an
	 * attempt that runs on its transaction's connection
	 */
	final void running(@Nullable AccessIntent candidate, @Nullable DataSource dataSource) {
		this.candidate = candidate;
		this.dataSource = dataSource;
	}

	/**
	 * Return the datasource the call's SQL was rendered for: a connection routed elsewhere (the
	 * tenant moved since the call resolved it) must not run it.
	 * @return the datasource, or {@code null} if any connection of the context will do
	 */
	final @Nullable DataSource dataSource() {
		return this.dataSource;
	}

	final void markCancelled() {
		this.cancelled = true;
	}

	final boolean isCancelled() {
		return this.cancelled;
	}

	/**
	 * Return the intent of the call's query object.
	 * @return {@link AccessIntent#READ} for a plain select, {@link AccessIntent#WRITE} for anything
	 * else, {@code null} if the call named none
	 */
	final @Nullable AccessIntent candidate() {
		return this.candidate;
	}

	static @Nullable FacadeCall find(ContextView context) {
		return context.getOrDefault(FacadeCall.class, null);
	}
}
