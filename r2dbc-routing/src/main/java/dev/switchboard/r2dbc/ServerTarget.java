package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.Role;
import dev.switchboard.api.TargetStatus;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;

/**
 * One server of a {@link ReplicatedDataSource}, its pool, and its health: in or out of rotation,
 * lagging or not, the last position seen, and when the probe may try it again.
 *
 * <p>Failures reach it directly ({@link #reportFailure}); the probe ({@link ReplicaProbe}) puts it
 * back, and a causal wait records the position it saw ({@link CausalReads}). The routing decision
 * reads one volatile flag, {@link #available}; everything else is written by failures, the probe
 * and causal waits, without locks. Leaving and rejoining the rotation is logged
 * ({@link RotationLog}).
 */
final class ServerTarget implements DataSource.Target {

	private static final long MAX_BACKOFF_NANOS = Duration.ofSeconds(30).toNanos();

	private static final AtomicIntegerFieldUpdater<ServerTarget> UP =
			AtomicIntegerFieldUpdater.newUpdater(ServerTarget.class, "upState");

	private static final AtomicIntegerFieldUpdater<ServerTarget> DOWNS =
			AtomicIntegerFieldUpdater.newUpdater(ServerTarget.class, "downs");

	private final DataSource dataSource;

	private final Role role;

	private final String name;

	private final ConnectionPool pool;

	/** How long a server taken out of rotation by a failure waits for its first probe. */
	private final long retryDelayNanos;

	/** Up and not lagging: the only field the routing decision reads. */
	volatile boolean available = true;

	/** 1 when up, 0 when out of rotation; changed by compare-and-set. */
	volatile int upState = 1;

	/** How many times it was taken out of rotation: a probe round ignores its own answer if this moved. */
	volatile int downs;

	volatile boolean lagging;

	/** The last position seen: replayed by a replica, current on the primary. */
	volatile @Nullable ReplicationPosition position;

	/** The last measured lag, or -1. */
	volatile long lagNanos = -1;

	/** When the probe may try a server that is down, by {@link System#nanoTime()}. */
	private volatile long retryAt;

	/** The backoff of the next failed probe. */
	private volatile long backoffNanos;

	ServerTarget(DataSource dataSource, Role role, String name, ConnectionPool pool, Duration retryDelay) {
		this.dataSource = dataSource;
		this.role = role;
		this.name = name;
		this.pool = pool;
		this.retryDelayNanos = retryDelay.toNanos();
	}

	/**
	 * Take this server out of rotation if {@code failure} says that it is unreachable or going
	 * away; failures of single statements leave it alone.
	 */
	@Override
	public boolean reportFailure(Throwable failure) {
		if (!DataErrorClassifier.isTargetFailure(failure) || !markDown(System.nanoTime() + this.retryDelayNanos)) {
			return false;
		}
		RotationLog.down(this, failure);
		return true;
	}

	@Override
	public TargetStatus status() {
		long lag = this.lagNanos;
		return new TargetStatus(isUp(), this.lagging, lag < 0 ? null : Duration.ofNanos(lag), this.position);
	}

	/** Take this server out of rotation; {@code true} if this call did it. Lock-free. */
	boolean markDown(long retryAt) {
		DOWNS.incrementAndGet(this);
		boolean changed = UP.compareAndSet(this, 1, 0);
		if (changed) {
			this.retryAt = retryAt;
			this.backoffNanos = 0;
		}
		// Even when another thread won: a refresh racing with the probe's must not leave it on.
		refresh();
		return changed;
	}

	void markUp() {
		if (UP.compareAndSet(this, 0, 1)) {
			this.backoffNanos = 0;
			if (!this.lagging) {
				RotationLog.up(this);
			}
		}
		refresh();
	}

	/**
	 * Put this server back in rotation for a probe round that began when {@link #downs} was
	 * {@code before}, unless a failure was reported since: the round's answer may predate it.
	 */
	void markUpUnlessDownSince(int before) {
		if (this.downs != before) {
			return;
		}
		markUp();
		// A failure reported while this marked it up wins.
		if (this.downs != before && UP.compareAndSet(this, 1, 0)) {
			refresh();
		}
	}

	/** Called by the probe only, one round at a time. */
	void backOff(long now, Duration interval) {
		long next = this.backoffNanos == 0 ? interval.toNanos() * 2 : this.backoffNanos * 2;
		this.backoffNanos = Math.min(next, MAX_BACKOFF_NANOS);
		this.retryAt = now + this.backoffNanos;
	}

	/** Record a replica's replayed position and the lag the probe measured for it. */
	void measured(@Nullable ReplicationPosition replayed, long lag, @Nullable Duration maxLag) {
		this.position = replayed;
		this.lagNanos = lag;
		boolean lagging = maxLag != null && lag > maxLag.toNanos();
		if (lagging != this.lagging) {
			if (lagging) {
				RotationLog.lagging(this, lag, maxLag);
			}
			else if (isUp()) {
				RotationLog.up(this);
			}
		}
		this.lagging = lagging;
		refresh();
	}

	boolean isUp() {
		return this.upState == 1;
	}

	/** Tell whether the probe may try this server, out of rotation, again. */
	boolean due(long now) {
		return !isUp() && now - this.retryAt >= 0;
	}

	private void refresh() {
		this.available = isUp() && !this.lagging;
	}

	ConnectionPool pool() {
		return this.pool;
	}

	@Override
	public DataSource dataSource() {
		return this.dataSource;
	}

	@Override
	public Role role() {
		return this.role;
	}

	@Override
	public String name() {
		return this.name;
	}

	@Override
	public ConnectionFactory connectionFactory() {
		return this.pool;
	}

	@Override
	public String toString() {
		return this.name;
	}
}
