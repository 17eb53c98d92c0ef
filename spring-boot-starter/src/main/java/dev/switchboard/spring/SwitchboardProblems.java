package dev.switchboard.spring;

import dev.switchboard.api.DataError;
import dev.switchboard.api.TenantId;
import org.jspecify.annotations.Nullable;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.ErrorResponse;
import org.springframework.web.ErrorResponseException;
import org.springframework.web.server.PayloadTooLargeException;

/**
 * The HTTP answer of each Switchboard failure: a status and an RFC 9457 problem detail, as Spring's
 * {@link ErrorResponse}. The one home of the status each {@link DataError.Kind} gets:
 *
 * <table>
 * <caption>Statuses</caption>
 * <tr><th>kind</th><th>status</th><th>why</th></tr>
 * <tr><td>MISSING_CONTEXT, INVALID_TENANT_ID, INVALID_CAUSAL_TOKEN</td><td>400</td><td>the request
 * names no tenant, or a malformed one, or a malformed token: the client must fix it</td></tr>
 * <tr><td>UNKNOWN_TENANT</td><td>404</td><td>the tenant, the request's resource, does not exist</td></tr>
 * <tr><td>TENANT_OFFBOARDED</td><td>410</td><td>the tenant existed and was offboarded: it will not
 * come back by retrying</td></tr>
 * <tr><td>ROUTING_CONFLICT</td><td>409</td><td>the request's work contradicts the transaction it
 * runs in</td></tr>
 * <tr><td>TRANSIENT, NO_HEALTHY_TARGET, TENANT_MOVED</td><td>503, {@code Retry-After: 1}</td><td>a retry may
 * succeed: lost connection, pool exhausted, serialization failure, deadlock, a primary that refuses
 * writes while it fails over (SQLSTATE 25006), no server in rotation</td></tr>
 * <tr><td>PERMANENT</td><td>500</td><td>bad SQL, a constraint, a permission, a write declared a
 * read that a replica refused (25006 from a replica, which a retry reaches again): the same
 * request fails again</td></tr>
 * <tr><td>OUTCOME_UNKNOWN</td><td>500, no {@code Retry-After}</td><td>a commit may or may not have
 * taken effect; a 503 would invite a blind retry that may apply it twice</td></tr>
 * </table>
 *
 * <p>Besides, a caller that may not use the tenant it names gets 403 ({@link #accessDenied}) and a
 * body above the codecs' limit 413, as Spring answers it for annotated controllers. The detail of
 * a routing error is its message (the tenant id in it is validated, or escaped and abbreviated by
 * {@link DataError}); a database error's detail says only what happened, never the driver's
 * message, which may quote SQL or data.
 */
public final class SwitchboardProblems {

	/** Seconds a client should wait before it retries a transient failure. */
	static final String RETRY_AFTER_SECONDS = "1";

	private SwitchboardProblems() {
	}

	/**
	 * Return the HTTP status of a kind of failure.
	 * @param kind the kind
	 * @return its status, as in the table above
	 */
	public static HttpStatus statusOf(DataError.Kind kind) {
		return switch (kind) {
			case MISSING_CONTEXT, INVALID_TENANT_ID, INVALID_CAUSAL_TOKEN -> HttpStatus.BAD_REQUEST;
			case UNKNOWN_TENANT -> HttpStatus.NOT_FOUND;
			case TENANT_OFFBOARDED -> HttpStatus.GONE;
			case ROUTING_CONFLICT -> HttpStatus.CONFLICT;
			case TRANSIENT, NO_HEALTHY_TARGET, TENANT_MOVED -> HttpStatus.SERVICE_UNAVAILABLE;
			case PERMANENT, OUTCOME_UNKNOWN -> HttpStatus.INTERNAL_SERVER_ERROR;
		};
	}

	/**
	 * Return the answer to a failure that Switchboard knows: a {@link DataError} anywhere in the
	 * cause chain (frameworks wrap it), a body over the codecs' limit, or an {@link ErrorResponse}
	 * of Spring's own (a 404 for a path no handler maps, a 403 of {@link #accessDenied}).
	 * @param failure any failure
	 * @return the answer, or {@code null} for a failure left to the next exception handler
	 */
	public static @Nullable ErrorResponse answerTo(Throwable failure) {
		if (failure instanceof ErrorResponse response) {
			return response;
		}
		DataError error = DataError.find(failure);
		if (error != null) {
			return answerTo(error);
		}
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof DataBufferLimitException) {
				return new PayloadTooLargeException(cause);
			}
			if (cause.getCause() == cause) {
				break;
			}
		}
		return null;
	}

	/**
	 * Return the answer to a classified failure.
	 * @param error the failure
	 * @return its status, title, detail, and the properties {@code kind} and, when known,
	 * {@code tenant}, {@code datasource}, {@code role} and {@code sqlState}
	 */
	public static ErrorResponse answerTo(DataError error) {
		DataError.Kind kind = error.kind();
		HttpStatus status = statusOf(kind);
		String detail = kind.isRouting() ? error.getMessage() : databaseDetail(kind);
		ErrorResponse.Builder answer = ErrorResponse.builder(error, status, detail).title(titleOf(kind))
				.property("kind", kind.name());
		if (error.tenant() != null) {
			answer.property("tenant", error.tenant());
		}
		if (error.dataSource() != null) {
			answer.property("datasource", error.dataSource());
		}
		if (error.role() != null) {
			answer.property("role", error.role().tag());
		}
		if (error.sqlState() != null) {
			answer.property("sqlState", error.sqlState());
		}
		if (status == HttpStatus.SERVICE_UNAVAILABLE) {
			answer.header(HttpHeaders.RETRY_AFTER, RETRY_AFTER_SECONDS);
		}
		return answer.build();
	}

	/**
	 * The caller is authenticated but may not use the tenant the request names: 403.
	 * @param tenant the tenant the request names
	 * @param caller the caller's name
	 * @return the failure to emit; it is its own answer
	 */
	public static ErrorResponseException accessDenied(TenantId tenant, String caller) {
		ErrorResponseException denied = new ErrorResponseException(HttpStatus.FORBIDDEN);
		denied.setTitle("Tenant not allowed");
		denied.setDetail("the caller '" + abbreviate(caller) + "' may not use tenant '" + tenant
				+ "'; nothing was executed");
		denied.getBody().setProperty("tenant", tenant.value());
		return denied;
	}

	private static String titleOf(DataError.Kind kind) {
		return switch (kind) {
			case MISSING_CONTEXT -> "Missing tenant";
			case INVALID_TENANT_ID -> "Invalid tenant";
			case INVALID_CAUSAL_TOKEN -> "Invalid causal token";
			case UNKNOWN_TENANT -> "Unknown tenant";
			case TENANT_OFFBOARDED -> "Tenant offboarded";
			case ROUTING_CONFLICT -> "Routing conflict";
			case TRANSIENT -> "Database temporarily unavailable";
			case NO_HEALTHY_TARGET -> "No healthy database server";
			case TENANT_MOVED -> "Tenant moved";
			case PERMANENT -> "Database error";
			case OUTCOME_UNKNOWN -> "Outcome unknown";
		};
	}

	private static String databaseDetail(DataError.Kind kind) {
		return switch (kind) {
			case TRANSIENT -> "the database could not serve the request now; a retry may succeed";
			case OUTCOME_UNKNOWN -> "the connection was lost while a write was committing: it may or may not have"
					+ " been applied; check before retrying";
			default -> "the database refused the request; the same request will fail again";
		};
	}

	/**
	 * A caller's name comes from a token or a user store: shown at most 80 characters long; the
	 * JSON writer escapes it.
	 */
	private static String abbreviate(String name) {
		return name.length() > 80 ? name.substring(0, 80) + "..." : name;
	}
}
