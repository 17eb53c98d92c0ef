package dev.switchboard.api;

import java.util.Objects;

/**
 * What a request has written: the datasource and the primary's {@link ReplicationPosition} after
 * the write committed. A replica that has replayed the position can serve the request's later
 * reads with its own writes in them.
 *
 * <p>Its string form, {@code <datasource>@<position>} (for example {@code orders-pg@0/3000148}
 * or {@code orders-maria@0-1-42}), can leave the application in a response header and come back
 * in the next request, to this instance or another, through {@link #parse(String)}, or
 * directly as {@code contextWrite(RoutingContext.forTenant(tenant, header))}
 * ({@link RoutingContext#forTenant(String, String)}). Immutable and thread-safe.
 */
public final class CausalToken {

	private final String dataSource;

	private final ReplicationPosition position;

	private final String text;

	private CausalToken(String dataSource, ReplicationPosition position) {
		this.dataSource = dataSource;
		this.position = position;
		this.text = dataSource + "@" + position;
	}

	/**
	 * Create a token.
	 * @param dataSource the datasource written to
	 * @param position the primary's position after the write
	 * @return the token
	 */
	public static CausalToken of(String dataSource, ReplicationPosition position) {
		Objects.requireNonNull(dataSource, "dataSource");
		Objects.requireNonNull(position, "position");
		return new CausalToken(dataSource, position);
	}

	/**
	 * Parse the string form of a token, as received from a client.
	 * @param value for example {@code orders-pg@0/3000148}
	 * @return the token
	 * @throws DataError of kind {@link DataError.Kind#INVALID_CAUSAL_TOKEN} if the value is not a
	 * token; the message shows the value, abbreviated and escaped
	 */
	public static CausalToken parse(String value) {
		if (value == null) {
			throw DataError.invalidCausalToken(null, "the token is missing");
		}
		int at = value.lastIndexOf('@');
		if (at <= 0 || at > 64 || at == value.length() - 1) {
			throw DataError.invalidCausalToken(value, "expected <datasource>@<position>");
		}
		String dataSource = value.substring(0, at);
		if (!Names.isValid(dataSource)) {
			throw DataError.invalidCausalToken(value, "the datasource name is not 1 to " + Names.MAX_LENGTH
					+ " characters of [A-Za-z0-9._-] starting with a letter or a digit");
		}
		try {
			return new CausalToken(dataSource, ReplicationPosition.parse(value.substring(at + 1)));
		}
		catch (IllegalArgumentException ex) {
			// The message of the parser quotes the raw value; the error shows it escaped instead.
			throw DataError.invalidCausalToken(value,
					"the position is neither a WAL location such as 0/3000148 nor a GTID position such as 0-1-42");
		}
	}

	/**
	 * Return the datasource the write went to.
	 * @return its name
	 */
	public String dataSource() {
		return this.dataSource;
	}

	/**
	 * Return the primary's position after the write.
	 * @return the position
	 */
	public ReplicationPosition position() {
		return this.position;
	}

	/**
	 * Return a token that covers this one and {@code other}. Tokens of different datasources do
	 * not merge: the later one wins, as a request routes to one datasource at a time.
	 * @param other another token, or {@code null}
	 * @return the merged token
	 */
	public CausalToken merge(CausalToken other) {
		if (other == null || other == this) {
			return this;
		}
		if (!other.dataSource.equals(this.dataSource)) {
			return other;
		}
		ReplicationPosition merged = this.position.max(other.position);
		return merged == this.position ? this : merged == other.position ? other : new CausalToken(this.dataSource, merged);
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof CausalToken that && that.text.equals(this.text);
	}

	@Override
	public int hashCode() {
		return this.text.hashCode();
	}

	/**
	 * Return the string form, which {@link #parse(String)} reads back.
	 * @return for example {@code orders-pg@0/3000148}
	 */
	@Override
	public String toString() {
		return this.text;
	}
}
