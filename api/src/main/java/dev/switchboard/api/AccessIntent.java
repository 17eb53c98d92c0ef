package dev.switchboard.api;

/**
 * What a statement intends to do, and therefore where it may run.
 *
 * <p>A {@link #WRITE} always runs on the primary. A {@link #READ} may run on a replica unless the
 * request's {@link ReadAfterWritePin} has been tripped. A statement whose intent is not known is
 * treated as a {@link #WRITE}: it runs on the primary and trips the pin.
 *
 * <p>A caller who knows the intent of a pipeline declares it with
 * {@link RoutingContext#intent(AccessIntent)}.
 */
public enum AccessIntent {

	/** The statement only reads; a replica may serve it. */
	READ,

	/** The statement writes, or may write; only the primary serves it. */
	WRITE
}
