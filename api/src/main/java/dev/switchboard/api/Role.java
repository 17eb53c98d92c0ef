package dev.switchboard.api;

/**
 * The role of a database server within a {@link DataSource}.
 */
public enum Role {

	/** The server that accepts writes. */
	PRIMARY,

	/** A read-only copy of the primary, possibly lagging behind it. */
	REPLICA;

	/**
	 * Return the role in lower case, as used in pool names, logs and metric tags.
	 * @return {@code "primary"} or {@code "replica"}
	 */
	public String tag() {
		return this == PRIMARY ? "primary" : "replica";
	}
}
