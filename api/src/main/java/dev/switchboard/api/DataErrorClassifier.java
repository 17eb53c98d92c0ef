package dev.switchboard.api;

import java.io.IOException;
import java.util.concurrent.TimeoutException;

import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcTransientException;
import io.r2dbc.spi.R2dbcTransientResourceException;
import org.jspecify.annotations.Nullable;

/**
 * Turns any failure of a statement or a connection into a {@link DataError} of kind
 * {@link DataError.Kind#TRANSIENT} or {@link DataError.Kind#PERMANENT}.
 *
 * <p>The decision uses, in order: the SQLSTATE and vendor code of PostgreSQL and
 * MySQL/MariaDB, then the R2DBC exception hierarchy, then the causes (a refused or lost
 * connection, a timeout). Anything else is permanent. Stateless and thread-safe.
 */
public final class DataErrorClassifier {

	private DataErrorClassifier() {
	}

	/**
	 * Classify {@code failure} and name where it happened. A {@link DataError} is returned as is.
	 * @param failure the original exception, kept as the cause
	 * @param tenant the tenant, or {@code null}
	 * @param dataSource the datasource name, or {@code null}
	 * @param role the role of the server, or {@code null}
	 * @return the classified error
	 */
	public static DataError classify(Throwable failure, @Nullable TenantId tenant, @Nullable String dataSource,
			@Nullable Role role) {
		if (failure instanceof DataError error) {
			return error;
		}
		R2dbcException r2dbc = findR2dbcException(failure);
		String sqlState = r2dbc != null ? blankToNull(r2dbc.getSqlState()) : null;
		int vendorCode = r2dbc != null ? r2dbc.getErrorCode() : 0;
		// A write refused by a read-only replica fails on every replica: it needs the primary, which
		// a retry with the same intent would not reach. On the primary, read-only means a failover
		// in progress, which a retry may outlast.
		DataError.Kind kind = isTransient(failure, r2dbc, sqlState, vendorCode)
				&& !(role == Role.REPLICA && isReadOnlyRefusal(sqlState, vendorCode))
						? DataError.Kind.TRANSIENT
						: DataError.Kind.PERMANENT;
		String detail = failure.getMessage() != null ? failure.getMessage() : failure.getClass().getName();
		return new DataError(kind, detail, tenant != null ? tenant.value() : null, dataSource, role, sqlState, failure);
	}

	/**
	 * Tell whether {@code failure} came from the database or the connection to it (an R2DBC
	 * exception, an I/O failure or a timeout, anywhere in its causes), rather than from the
	 * caller's own code, such as a row-mapping function.
	 * @param failure any exception
	 * @return {@code true} if {@link #classify} should be applied
	 */
	public static boolean isDataAccessFailure(Throwable failure) {
		int depth = 0;
		for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
			if (t instanceof R2dbcException || t instanceof IOException || t instanceof TimeoutException) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Tell whether a SQLSTATE, with the vendor code that MySQL and MariaDB attach to it, denotes a
	 * failure that a retry may overcome.
	 * @param sqlState the five-character SQLSTATE, or {@code null}
	 * @param vendorCode the vendor error code, or 0
	 * @return {@code true} if transient
	 */
	public static boolean isTransientSqlState(@Nullable String sqlState, int vendorCode) {
		if (isTransientMySqlCode(vendorCode)) {
			return true;
		}
		if (sqlState == null || sqlState.length() != 5) {
			return false;
		}
		return switch (sqlState.substring(0, 2)) {
			// connection exception, transaction rollback (serialization failure, deadlock),
			// insufficient resources (too many connections)
			case "08", "40", "53" -> true;
			// admin shutdown, crash shutdown, cannot connect now, query cancelled by timeout
			case "57" -> !sqlState.equals("57000");
			// read-only SQL transaction: a write reached a replica, the primary may take it
			case "25" -> sqlState.equals("25006");
			// lock not available
			case "55" -> sqlState.equals("55P03");
			default -> false;
		};
	}

	/**
	 * Tell whether a failure says that the server itself is unreachable or going away, as opposed
	 * to a failure of one statement: the connection could not be made or was lost, the acquisition
	 * timed out, the server is shutting down or was killed. Such a server is taken out of rotation.
	 * @param failure any failure, perhaps a {@link DataError} wrapping the driver's
	 * @return {@code true} for connectivity failures
	 */
	public static boolean isTargetFailure(Throwable failure) {
		Throwable cause = failure instanceof DataError error && error.getCause() != null ? error.getCause() : failure;
		R2dbcException r2dbc = findR2dbcException(cause);
		String sqlState = r2dbc != null ? blankToNull(r2dbc.getSqlState()) : null;
		int vendorCode = r2dbc != null ? r2dbc.getErrorCode() : 0;
		if (sqlState != null || vendorCode != 0) {
			return switch (vendorCode) {
				// server shutdown, connection killed, cannot connect, server gone, connection lost
				case 1053, 1927, 2002, 2003, 2006, 2013 -> true;
				default -> sqlState != null && (sqlState.startsWith("08") || sqlState.equals("57P01")
						|| sqlState.equals("57P02") || sqlState.equals("57P03"));
			};
		}
		if (r2dbc instanceof R2dbcNonTransientResourceException
				|| r2dbc instanceof R2dbcTransientResourceException) {
			return true;
		}
		int depth = 0;
		for (Throwable t = cause; t != null && depth < 16; t = t.getCause(), depth++) {
			if (t instanceof IOException || t instanceof TimeoutException) {
				return true;
			}
		}
		return false;
	}

	/**
	 * Tell whether a failure says that a server refused a write because it is read-only
	 * (PostgreSQL 25006, MySQL/MariaDB 1290, 1792, 1836).
	 * @param sqlState the SQLSTATE, or {@code null}
	 * @param vendorCode the vendor error code, or 0
	 * @return {@code true} for a read-only refusal
	 */
	static boolean isReadOnlyRefusal(@Nullable String sqlState, int vendorCode) {
		return vendorCode == 1290 || vendorCode == 1792 || vendorCode == 1836 || "25006".equals(sqlState);
	}

	private static boolean isTransientMySqlCode(int code) {
		return switch (code) {
			// too many connections, server shutdown, lock wait timeout, deadlock,
			// read-only (--read-only, read-only transaction, read-only mode), connection killed,
			// client-side connection errors
			case 1040, 1053, 1205, 1213, 1290, 1792, 1836, 1927, 2002, 2003, 2006, 2013 -> true;
			default -> false;
		};
	}

	private static boolean isTransient(Throwable failure, @Nullable R2dbcException r2dbc, @Nullable String sqlState,
			int vendorCode) {
		if (sqlState != null || vendorCode != 0) {
			return isTransientSqlState(sqlState, vendorCode);
		}
		if (r2dbc instanceof R2dbcTransientException || r2dbc instanceof R2dbcNonTransientResourceException) {
			// A connection that broke or could not be made is worth a retry, maybe elsewhere.
			return true;
		}
		for (Throwable t = failure; t != null; t = t.getCause()) {
			if (t instanceof IOException || t instanceof TimeoutException) {
				return true;
			}
			if (t.getCause() == t) {
				break;
			}
		}
		return false;
	}

	private static @Nullable R2dbcException findR2dbcException(Throwable failure) {
		int depth = 0;
		for (Throwable t = failure; t != null && depth < 16; t = t.getCause(), depth++) {
			if (t instanceof R2dbcException e) {
				return e;
			}
		}
		return null;
	}

	private static @Nullable String blankToNull(@Nullable String value) {
		return value == null || value.isBlank() ? null : value;
	}
}
