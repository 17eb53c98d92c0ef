package dev.switchboard.r2dbc;

import dev.switchboard.api.ReplicationPosition;
import org.jspecify.annotations.Nullable;

/**
 * The primary's recent positions, sampled by the probe, from which a replica's lag is told: a
 * replica that has not replayed the primary's latest position lags by the age of the oldest
 * sample it has not replayed. Measured this way, lag needs no clock on the replica, works the same
 * for WAL locations and GTIDs, and is zero on an idle primary, where
 * {@code now() - pg_last_xact_replay_timestamp()} would grow without end.
 *
 * <p>Written and read by the probe only, off the routing path; its methods lock.
 */
final class PrimaryHistory {

	private static final int SIZE = 64;

	private final long[] times = new long[SIZE];

	private final ReplicationPosition[] positions = new ReplicationPosition[SIZE];

	private int count;

	private int next;

	synchronized void add(long time, ReplicationPosition position) {
		this.times[this.next] = time;
		this.positions[this.next] = position;
		this.next = (this.next + 1) % SIZE;
		this.count = Math.min(this.count + 1, SIZE);
	}

	/**
	 * Return how far behind the primary a replica is.
	 * @param replayed the replica's replayed position, or {@code null} if it has replayed nothing
	 * @param now when the replica's position was read, by {@link System#nanoTime()}
	 * @return the lag in nanoseconds: 0 when it has replayed the latest sample (or there is none),
	 * else the age of the oldest sample it has not replayed
	 */
	synchronized long lag(@Nullable ReplicationPosition replayed, long now) {
		long oldestMissing = -1;
		boolean found = false;
		// From the newest sample back: stop at the first one the replica has replayed.
		for (int i = 1; i <= this.count; i++) {
			int index = Math.floorMod(this.next - i, SIZE);
			if (replayed != null && replayed.covers(this.positions[index])) {
				break;
			}
			oldestMissing = this.times[index];
			found = true;
		}
		return found ? Math.max(0, now - oldestMissing) : 0;
	}
}
