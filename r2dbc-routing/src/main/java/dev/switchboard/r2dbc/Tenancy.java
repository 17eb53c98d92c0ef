package dev.switchboard.r2dbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Sinks;

/**
 * A tenant on one placement, for as long as it stays there: what a {@link TenantDirectory}
 * snapshot maps the tenant to, and what every connection routed for the tenant holds a lease on
 * until its release starts. A move or an offboard retires the tenancy: it drains, refusing new
 * leases, and says when the last one is back.
 *
 * <p>The leases, the draining flag and a count of every lease ever taken share one {@code long},
 * so that a lease is one atomic add on the routing path and a drain cannot miss one: a router
 * adds, then reads the flag in the same result; the directory sets the flag, then reads the count
 * in the same result. Whichever is second sees the other. A lease refused because the tenancy
 * drains sends the router back to the directory, whose new snapshot was published before the flag
 * was set. The count of every lease is the ticket a read's replica is chosen by
 * ({@code DataSource.select(intent, ticket)}): the routing path's one atomic operation serves both.
 *
 * <p>An offboarded tenant's entry is a tombstone: a tenancy without a datasource, so that the
 * directory can tell "gone" from "never existed".
 */
final class Tenancy {

	/** The leases held now: bits 0 to 30. */
	private static final long HELD = (1L << 31) - 1;

	/** Set once the tenancy is retired: bit 31. */
	private static final long DRAINING = 1L << 31;

	/** One lease more held, and one more taken (bits 32 to 63, wrapping). */
	private static final long ONE_LEASE = (1L << 32) | 1L;

	private static final VarHandle LEASES;

	static {
		try {
			LEASES = MethodHandles.lookup().findVarHandle(Tenancy.class, "leases", long.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	final TenantId tenant;

	/** {@code null} for a tombstone. */
	final @Nullable Placement placement;

	/** {@code null} for a tombstone. */
	final @Nullable DataSource dataSource;

	/** Where the tenant came from, so that a source offboards only its own. */
	final Origin origin;

	/** Whether leases are counted: not for a connection to a target named by a tool. */
	private final boolean counted;

	/** The leases held, {@link #DRAINING}, and the leases ever taken. */
	private volatile long leases;

	/** Set before the draining flag; completed by whoever returns the last lease after it. */
	private volatile Sinks.@Nullable Empty<Void> drained;

	/** Where a tenant of a directory came from. */
	enum Origin {
		/** The directory's builder (configuration). */
		STATIC,
		/** A {@link TenantSource}: offboarded when the source no longer lists it. */
		SOURCE,
		/** A call of {@link TenantDirectory#onboard}. */
		API
	}

	private Tenancy(TenantId tenant, @Nullable Placement placement, @Nullable DataSource dataSource, Origin origin,
			boolean counted) {
		this.tenant = tenant;
		this.placement = placement;
		this.dataSource = dataSource;
		this.origin = origin;
		this.counted = counted;
	}

	static Tenancy of(TenantId tenant, Placement placement, DataSource dataSource, Origin origin) {
		return new Tenancy(tenant, placement, dataSource, origin, true);
	}

	static Tenancy tombstone(TenantId tenant, Origin origin) {
		return new Tenancy(tenant, null, null, origin, false);
	}

	/** For a connection that a tool asks of a target directly: nothing to drain. */
	static Tenancy uncounted(TenantId tenant, DataSource dataSource) {
		return new Tenancy(tenant, null, dataSource, Origin.API, false);
	}

	boolean isTombstone() {
		return this.placement == null;
	}

	/**
	 * Take a lease for one connection.
	 * @return the number of leases taken before this one (a non-negative ticket for choosing a
	 * replica), or {@code -1} if the tenancy drains: resolve the tenant again
	 */
	int lease() {
		if (!this.counted) {
			return 0;
		}
		long before = (long) LEASES.getAndAdd(this, ONE_LEASE);
		if ((before & DRAINING) == 0) {
			return (int) (before >>> 32) & Integer.MAX_VALUE;
		}
		release();
		return -1;
	}

	/** Return a lease; the last one after the tenancy was retired completes its drain. */
	void release() {
		if (this.counted && ((long) LEASES.getAndAdd(this, -1L) & (DRAINING | HELD)) == (DRAINING | 1L)) {
			Sinks.Empty<Void> sink = this.drained;
			if (sink != null) {
				sink.tryEmitEmpty();
			}
		}
	}

	/**
	 * Refuse new leases, and tell when the last one is back. Called once, by the directory, after it
	 * published a snapshot without this tenancy.
	 * @return a {@code Mono} that completes when no lease is left
	 */
	Mono<Void> retire() {
		Sinks.Empty<Void> sink = Sinks.empty();
		this.drained = sink;
		long before = (long) LEASES.getAndBitwiseOr(this, DRAINING);
		if (!this.counted || (before & HELD) == 0) {
			sink.tryEmitEmpty();
		}
		return sink.asMono();
	}

	/**
	 * Return when the last lease is back, once {@link #retire() retired}.
	 * @return a {@code Mono} that completes then
	 */
	Mono<Void> drained() {
		Sinks.Empty<Void> sink = this.drained;
		return sink != null ? sink.asMono() : Mono.never();
	}

	/**
	 * Return how many connections hold a lease now.
	 * @return the count
	 */
	long connections() {
		return this.leases & HELD;
	}

	boolean isDraining() {
		return (this.leases & DRAINING) != 0;
	}

	@Override
	public String toString() {
		return "Tenancy[" + this.tenant + (this.placement != null ? " on " + this.placement : " offboarded") + "]";
	}
}
