package dev.switchboard.r2dbc;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.Role;
import io.r2dbc.spi.R2dbcException;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link RoutedConnection} classifies the failures of the driver's exchanges, its own, its
 * statements' and its results': each leaves as a {@link DataError} naming the tenant, datasource
 * and role, told to the routing listener and to the target's health. Failures of the caller's own
 * code never come here. A lost connection leaves the outcome of an exchange that may have applied
 * a change (the commit, a write in autocommit) unknown.
 */
final class ConnectionFailures {

	private ConnectionFailures() {
	}

	/**
	 * Classify a failure of a driver exchange (never the caller's code): every failure leaves as
	 * a {@link DataError}, and the datasource's health hears of it.
	 */
	static DataError classify(RoutedConnection connection, Throwable failure) {
		DataError error = DataErrorClassifier.classify(failure, connection.tenancy.tenant,
				connection.target.dataSource().name(), connection.target.role());
		if (error.kind() == DataError.Kind.PERMANENT && isDriverStateFailure(failure)) {
			// r2dbc-mysql's "Request queue was disposed" and the like: the connection broke under the driver.
			error = new DataError(DataError.Kind.TRANSIENT, "the driver's connection failed: " + failure.getMessage(),
					connection.tenancy.tenant.value(), connection.target.dataSource().name(), connection.target.role(),
					null, failure);
		}
		return report(connection, error);
	}

	/**
	 * Classify a failure of an exchange that may have applied a change: the commit, or a write in
	 * autocommit. A lost connection there leaves the outcome unknown.
	 */
	static DataError classifyInDoubt(RoutedConnection connection, Throwable failure, String what) {
		if (failure instanceof DataError classified) {
			return classified;
		}
		if (DataErrorClassifier.isTargetFailure(failure) || isDriverStateFailure(failure)) {
			String sqlState = failure instanceof R2dbcException r2dbc ? r2dbc.getSqlState() : null;
			return report(connection, DataError.outcomeUnknown(what, connection.tenancy.tenant,
					connection.target.dataSource().name(), connection.target.role(), sqlState, failure));
		}
		return classify(connection, failure);
	}

	/** A write in autocommit on the primary whose connection was lost may have been applied. */
	static DataError classifyStatement(RoutedConnection connection, Throwable failure, @Nullable String sql) {
		return connection.inTransaction() || connection.target.role() != Role.PRIMARY
				|| (sql != null && Statements.isRead(sql))
				? classify(connection, failure)
				: classifyInDoubt(connection, failure, "a write in autocommit");
	}

	private static DataError report(RoutedConnection connection, DataError error) {
		connection.listener.failed(connection.context, error);
		connection.target.reportFailure(error);
		return error;
	}

	/** An exception of the driver's own that says its connection state broke, not the database's answer. */
	private static boolean isDriverStateFailure(Throwable failure) {
		return failure instanceof IllegalStateException && !(failure instanceof DataError);
	}
}
