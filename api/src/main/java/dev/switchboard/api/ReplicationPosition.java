package dev.switchboard.api;

import java.util.Arrays;
import java.util.Locale;
import java.util.TreeMap;

import org.jspecify.annotations.Nullable;

/**
 * A point in a primary's replication stream: a PostgreSQL WAL location ({@code 0/3000148}) or a
 * MariaDB GTID position ({@code 0-1-42}, one {@code domain-server-sequence} per replication
 * domain, comma-separated). A replica that has replayed a position has every transaction the
 * primary had committed when the position was taken.
 *
 * <p>Immutable and thread-safe.
 */
public abstract sealed class ReplicationPosition permits ReplicationPosition.WalLocation, ReplicationPosition.GtidPosition {

	private ReplicationPosition() {
	}

	/**
	 * Parse a position in the syntax of either engine.
	 * @param value a WAL location ({@code 16/B374D848}) or a GTID position ({@code 0-1-42,1-1-7})
	 * @return the position
	 * @throws IllegalArgumentException if the value is neither, or a number overflows
	 */
	public static ReplicationPosition parse(String value) {
		if (value == null || value.isEmpty() || value.length() > 512) {
			throw new IllegalArgumentException("a replication position must be 1 to 512 characters");
		}
		int slash = value.indexOf('/');
		return slash >= 0 ? WalLocation.parseWal(value, slash) : GtidPosition.parseGtids(value);
	}

	/**
	 * Tell whether a server at this position has replayed everything up to {@code other}.
	 * Positions of different engines never cover each other.
	 * @param other the position wanted
	 * @return {@code true} if this position is at or past {@code other}
	 */
	public abstract boolean covers(ReplicationPosition other);

	/**
	 * Return the later of this position and {@code other}: for GTID positions, the later sequence
	 * of each domain. Positions of different engines give {@code other}.
	 * @param other another position, or {@code null}
	 * @return a position that covers both
	 */
	public abstract ReplicationPosition max(@Nullable ReplicationPosition other);

	/**
	 * A PostgreSQL WAL location, as {@code pg_current_wal_lsn()} prints it.
	 */
	public static final class WalLocation extends ReplicationPosition {

		private final long lsn;

		private WalLocation(long lsn) {
			this.lsn = lsn;
		}

		static WalLocation parseWal(String value, int slash) {
			try {
				long high = Long.parseLong(value, 0, slash, 16);
				long low = Long.parseLong(value, slash + 1, value.length(), 16);
				if (slash == 0 || slash > 8 || value.length() - slash - 1 > 8 || value.length() - slash - 1 == 0
						|| high < 0 || low < 0) {
					throw new NumberFormatException();
				}
				return new WalLocation((high << 32) | low);
			}
			catch (NumberFormatException ex) {
				throw new IllegalArgumentException("'" + value + "' is not a WAL location such as 0/3000148");
			}
		}

		/**
		 * Return the location as one number.
		 * @return the 64-bit location
		 */
		public long lsn() {
			return this.lsn;
		}

		@Override
		public boolean covers(ReplicationPosition other) {
			return other instanceof WalLocation wal && Long.compareUnsigned(this.lsn, wal.lsn) >= 0;
		}

		@Override
		public ReplicationPosition max(@Nullable ReplicationPosition other) {
			return other == null || covers(other) ? this : other;
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof WalLocation wal && wal.lsn == this.lsn;
		}

		@Override
		public int hashCode() {
			return Long.hashCode(this.lsn);
		}

		@Override
		public String toString() {
			return Long.toHexString(this.lsn >>> 32).toUpperCase(Locale.ROOT) + "/"
					+ Long.toHexString(this.lsn & 0xFFFFFFFFL).toUpperCase(Locale.ROOT);
		}
	}

	/**
	 * A MariaDB GTID position: per replication domain, the server that wrote the last transaction
	 * and its sequence number, as {@code @@gtid_binlog_pos} or {@code @@last_gtid} print it.
	 */
	public static final class GtidPosition extends ReplicationPosition {

		/** Domain ids, ascending; {@code servers} and {@code sequences} are parallel to it. */
		private final long[] domains;

		private final long[] servers;

		private final long[] sequences;

		private GtidPosition(long[] domains, long[] servers, long[] sequences) {
			this.domains = domains;
			this.servers = servers;
			this.sequences = sequences;
		}

		static GtidPosition parseGtids(String value) {
			String[] parts = value.split(",", -1);
			long[][] gtids = new long[parts.length][];
			for (int i = 0; i < parts.length; i++) {
				gtids[i] = gtid(value, parts[i].strip());
			}
			Arrays.sort(gtids, (a, b) -> Long.compare(a[0], b[0]));
			long[] domains = new long[gtids.length];
			long[] servers = new long[gtids.length];
			long[] sequences = new long[gtids.length];
			for (int i = 0; i < gtids.length; i++) {
				if (i > 0 && gtids[i][0] == gtids[i - 1][0]) {
					throw new IllegalArgumentException("'" + value + "' names replication domain " + gtids[i][0] + " twice");
				}
				domains[i] = gtids[i][0];
				servers[i] = gtids[i][1];
				sequences[i] = gtids[i][2];
			}
			return new GtidPosition(domains, servers, sequences);
		}

		private static long[] gtid(String value, String part) {
			String[] numbers = part.split("-", -1);
			if (numbers.length != 3) {
				throw new IllegalArgumentException("'" + value + "' is not a GTID position such as 0-1-42");
			}
			long[] gtid = new long[3];
			for (int i = 0; i < 3; i++) {
				String number = numbers[i];
				if (number.isEmpty() || number.length() > 20 || !number.chars().allMatch(c -> c >= '0' && c <= '9')) {
					throw new IllegalArgumentException("'" + value + "' is not a GTID position such as 0-1-42");
				}
				try {
					gtid[i] = Long.parseUnsignedLong(number);
				}
				catch (NumberFormatException ex) {
					throw new IllegalArgumentException("'" + value + "' has a number out of range");
				}
				if (i < 2 && (gtid[i] < 0 || gtid[i] > 0xFFFFFFFFL)) {
					throw new IllegalArgumentException("'" + value + "' has a domain or server id above 4294967295");
				}
			}
			return gtid;
		}

		@Override
		public boolean covers(ReplicationPosition other) {
			if (!(other instanceof GtidPosition wanted)) {
				return false;
			}
			for (int i = 0; i < wanted.domains.length; i++) {
				int here = Arrays.binarySearch(this.domains, wanted.domains[i]);
				if (here < 0 || Long.compareUnsigned(this.sequences[here], wanted.sequences[i]) < 0) {
					return false;
				}
			}
			return true;
		}

		@Override
		public ReplicationPosition max(@Nullable ReplicationPosition other) {
			if (!(other instanceof GtidPosition that)) {
				return other == null ? this : other;
			}
			if (covers(that)) {
				return this;
			}
			if (that.covers(this)) {
				return that;
			}
			TreeMap<Long, long[]> merged = new TreeMap<>();
			for (GtidPosition side : new GtidPosition[] { this, that }) {
				for (int i = 0; i < side.domains.length; i++) {
					long[] gtid = { side.domains[i], side.servers[i], side.sequences[i] };
					merged.merge(side.domains[i], gtid, (a, b) -> Long.compareUnsigned(b[2], a[2]) > 0 ? b : a);
				}
			}
			long[] domains = new long[merged.size()];
			long[] servers = new long[domains.length];
			long[] sequences = new long[domains.length];
			int i = 0;
			for (long[] gtid : merged.values()) {
				domains[i] = gtid[0];
				servers[i] = gtid[1];
				sequences[i++] = gtid[2];
			}
			return new GtidPosition(domains, servers, sequences);
		}

		@Override
		public boolean equals(Object other) {
			return other instanceof GtidPosition that && Arrays.equals(this.domains, that.domains)
					&& Arrays.equals(this.servers, that.servers) && Arrays.equals(this.sequences, that.sequences);
		}

		@Override
		public int hashCode() {
			return 31 * Arrays.hashCode(this.domains) + Arrays.hashCode(this.sequences);
		}

		@Override
		public String toString() {
			StringBuilder text = new StringBuilder();
			for (int i = 0; i < this.domains.length; i++) {
				text.append(i == 0 ? "" : ",").append(Long.toUnsignedString(this.domains[i])).append('-')
						.append(Long.toUnsignedString(this.servers[i])).append('-')
						.append(Long.toUnsignedString(this.sequences[i]));
			}
			return text.toString();
		}
	}
}
