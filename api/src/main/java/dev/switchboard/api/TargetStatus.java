package dev.switchboard.api;

import java.time.Duration;

import org.jspecify.annotations.Nullable;

/**
 * What a datasource knows of one of its servers ({@link DataSource.Target#status()}).
 *
 * @param up whether it answered the last connection or probe
 * @param lagging whether it is beyond the maximum replication lag
 * @param lag its last measured lag, or {@code null} if not measured
 * @param position its last known replayed (replica) or current (primary) position, or
 * {@code null}
 */
public record TargetStatus(boolean up, boolean lagging, @Nullable Duration lag,
		@Nullable ReplicationPosition position) {

	/** The status of a target whose datasource does not track health: assumed up, lag unknown. */
	public static final TargetStatus UNTRACKED = new TargetStatus(true, false, null, null);

	/**
	 * Tell whether reads may go to this server.
	 * @return {@code true} when it is up and not lagging
	 */
	public boolean available() {
		return this.up && !this.lagging;
	}
}
