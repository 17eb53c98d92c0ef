package dev.switchboard.api;

import org.jspecify.annotations.Nullable;

/**
 * The validated identifier of a tenant.
 *
 * <p>A tenant id is 1 to {@value #MAX_LENGTH} characters from {@code [A-Za-z0-9._-]} and starts
 * with a letter or a digit, so it is safe in logs, metric tags, HTTP headers and file names.
 * Instances are immutable, compare by value and cache their hash code, which makes them cheap
 * keys for the frozen tenant registry. An id also keeps its first 16 characters packed into two
 * {@code long}s, so that comparing two ids of up to 16 characters reads neither's {@code String},
 * and a {@link TenantTable} keeps those two {@code long}s of its ids inline.
 */
public final class TenantId implements Comparable<TenantId> {

	/** The longest accepted tenant id. */
	public static final int MAX_LENGTH = Names.MAX_LENGTH;

	/** How many leading characters {@link #head} and {@link #tail} hold. */
	private static final int PACKED = 16;

	/** No character has its top bit set, so this bit can only mean "more than 16 characters". */
	private static final long LONGER = Long.MIN_VALUE;

	final String value;

	/** The spread hash code; read by {@link TenantTable} too. */
	final int hash;

	/**
	 * Characters 0 to 7, one byte each (they are ASCII), zero after the end; never 0, since an id
	 * has a first character and no character is 0. Read by {@link TenantTable}, which keeps it
	 * inline.
	 */
	final long head;

	/** Characters 8 to 15 likewise, with {@link #LONGER} set when the id has more than 16. */
	final long tail;

	private TenantId(String value) {
		this.value = value;
		this.hash = spread(value.hashCode());
		this.head = pack(value, 0);
		this.tail = pack(value, 8) | (value.length() > PACKED ? LONGER : 0L);
	}

	/**
	 * The characters from {@code from} to {@code from + 7}, one byte each, the first in the lowest
	 * byte. No valid character is {@code 0}, so ids of up to 16 characters that differ in length
	 * differ in their packed bytes too.
	 */
	private static long pack(String value, int from) {
		long packed = 0L;
		int end = Math.min(value.length(), from + 8);
		for (int i = end - 1; i >= from; i--) {
			packed = (packed << 8) | value.charAt(i);
		}
		return packed;
	}

	/**
	 * Ids such as {@code tenant-1}, {@code tenant-2} have neighbouring String hashes, which pile up
	 * in the linear probing of the registry's immutable map; a multiplicative mix spreads them.
	 */
	private static int spread(int hash) {
		int mixed = hash * 0x9E3779B9;
		return mixed ^ (mixed >>> 16);
	}

	/**
	 * Parse and validate a tenant id.
	 * @param value the raw id, for example from a header
	 * @return the tenant id
	 * @throws DataError of kind {@link DataError.Kind#INVALID_TENANT_ID} naming the bad value
	 */
	public static TenantId of(@Nullable String value) {
		String problem = validate(value);
		if (problem != null) {
			throw DataError.invalidTenantId(value, problem);
		}
		return new TenantId(value);
	}

	/**
	 * Tell whether {@code value} is a valid tenant id, without throwing.
	 * @param value the raw id
	 * @return {@code true} if {@link #of(String)} would accept it
	 */
	public static boolean isValid(@Nullable String value) {
		return validate(value) == null;
	}

	private static @Nullable String validate(@Nullable String value) {
		return Names.problem(value);
	}

	/**
	 * Return the id as a string.
	 * @return the validated id
	 */
	public String value() {
		return this.value;
	}

	@Override
	public int compareTo(TenantId other) {
		return this.value.compareTo(other.value);
	}

	@Override
	public boolean equals(@Nullable Object other) {
		// The cached hash first: a probe that meets another tenant's id rarely reads its characters.
		// Up to 16 characters, the packed ones are the whole id; beyond, the strings decide.
		return this == other || (other instanceof TenantId that && that.hash == this.hash && that.head == this.head
				&& that.tail == this.tail && (this.tail >= 0L || this.value.equals(that.value)));
	}

	@Override
	public int hashCode() {
		return this.hash;
	}

	@Override
	public String toString() {
		return this.value;
	}
}
