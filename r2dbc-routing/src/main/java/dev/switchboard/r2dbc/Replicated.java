package dev.switchboard.r2dbc;

import org.jspecify.annotations.Nullable;

/**
 * What routing needs of a datasource beyond the {@link dev.switchboard.api.DataSource} contract,
 * stated once. {@link ReplicatedDataSource} is its implementation; a datasource of an application's
 * own is routed by {@code select} alone, its targets told of failures through
 * {@link dev.switchboard.api.DataSource.Target#reportFailure}.
 * <ul>
 * <li>Failover: a failed server leaves the rotation at once, so a read whose replica failed to
 * connect may be sent once more, to what {@code select} chooses then.</li>
 * <li>Causal reads, in {@link dev.switchboard.api.ReadConsistency#CAUSAL} mode.</li>
 * </ul>
 */
interface Replicated {

	/**
	 * Return the causal reads of this datasource.
	 * @return them, or {@code null} unless its consistency is causal
	 */
	@Nullable CausalReads causalReads();
}
