package dev.switchboard.api;

/**
 * How a datasource serves the reads of a request that has written.
 */
public enum ReadConsistency {

	/**
	 * Every read after a write goes to the primary, for the rest of the request (the
	 * {@link ReadAfterWritePin}). Needs no help from the database. The default.
	 */
	PIN,

	/**
	 * A read after a write goes to a replica that has replayed the write (the request's
	 * {@link CausalToken}), else to the primary. Works across requests and application instances
	 * when the token travels with them.
	 */
	CAUSAL
}
