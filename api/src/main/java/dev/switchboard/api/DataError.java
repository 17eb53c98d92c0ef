package dev.switchboard.api;

import org.jspecify.annotations.Nullable;

/**
 * A classified failure of data access, so that callers can tell "retry, maybe elsewhere" from
 * "this will never work" without parsing messages.
 *
 * <p>The message names the tenant, the datasource, the role and, where known, the SQLSTATE; the
 * original exception, if any, is the {@linkplain #getCause() cause}. Database failures are
 * classified by {@link DataErrorClassifier}; routing failures are created by the factory methods
 * of this class.
 *
 * <p>Frameworks above Switchboard may wrap it (Spring in {@code CannotCreateTransactionException}
 * or {@code DataAccessResourceFailureException}, jOOQ in its {@code DataAccessException}); use
 * {@link #find(Throwable)} rather than {@code instanceof} to get it back.
 */
public final class DataError extends RuntimeException {

	private static final long serialVersionUID = 1L;

	/** How many causes {@link #find} follows: far more than any real wrapping, and a bound on a cycle. */
	private static final int MAX_CAUSE_DEPTH = 32;

	/**
	 * The kinds of failure.
	 */
	public enum Kind {

		/** The statement may succeed if retried, perhaps on another server: connection lost, pool exhausted, serialization failure, deadlock, read-only server. */
		TRANSIENT(true, false),

		/** The statement will fail again: bad SQL, constraint violation, permission denied. */
		PERMANENT(false, false),

		/** The pipeline carries no {@link RoutingContext} and no default tenant is configured. */
		MISSING_CONTEXT(false, true),

		/** The tenant is valid but not registered. */
		UNKNOWN_TENANT(false, true),

		/**
		 * The tenant was registered and has been offboarded: it is gone, where
		 * {@link #UNKNOWN_TENANT} says it never existed.
		 */
		TENANT_OFFBOARDED(false, true),

		/** The tenant id is malformed. */
		INVALID_TENANT_ID(false, true),

		/** A statement inside a running transaction asked for another tenant or datasource. */
		ROUTING_CONFLICT(false, true),

		/** No server of the datasource can take the statement. */
		NO_HEALTHY_TARGET(true, true),

		/**
		 * The tenant moved to another datasource while its work was prepared for the old one (its
		 * SQL rendered in that one's dialect): nothing was sent, and the same request made again
		 * goes to the new one. The jOOQ facade retries it where that is safe.
		 */
		TENANT_MOVED(true, true),

		/** A causal read-your-writes token is malformed. */
		INVALID_CAUSAL_TOKEN(false, true),

		/**
		 * The connection was lost while a commit, or a write in autocommit, was in flight: it may
		 * or may not have taken effect. Never safe to retry blindly (a retry may apply it twice);
		 * check what the database holds, or retry only what is idempotent. CockroachDB calls this
		 * an ambiguous result (SQLSTATE 40003).
		 */
		OUTCOME_UNKNOWN(false, false);

		private final boolean transientFailure;

		private final boolean routing;

		Kind(boolean transientFailure, boolean routing) {
			this.transientFailure = transientFailure;
			this.routing = routing;
		}

		/**
		 * Tell whether a retry may succeed.
		 * @return {@code true} for {@link #TRANSIENT}, {@link #NO_HEALTHY_TARGET} and {@link #TENANT_MOVED}
		 */
		public boolean isTransient() {
			return this.transientFailure;
		}

		/**
		 * Tell whether the failure happened while routing, before any statement reached a server.
		 * @return {@code true} for the routing kinds
		 */
		public boolean isRouting() {
			return this.routing;
		}
	}

	private final Kind kind;

	private final @Nullable String tenant;

	private final @Nullable String dataSource;

	private final @Nullable Role role;

	private final @Nullable String sqlState;

	/**
	 * Create a classified error. Most callers use the factory methods or
	 * {@link DataErrorClassifier#classify}.
	 * @param kind the kind of failure
	 * @param detail what happened, without the tenant, datasource, role and SQLSTATE, which are
	 * appended
	 * @param tenant the tenant, or {@code null} if unknown
	 * @param dataSource the datasource name, or {@code null} if not resolved
	 * @param role the role of the server, or {@code null} if not chosen
	 * @param sqlState the SQLSTATE, or {@code null} if none
	 * @param cause the original exception, or {@code null}
	 */
	public DataError(Kind kind, String detail, @Nullable String tenant, @Nullable String dataSource,
			@Nullable Role role, @Nullable String sqlState, @Nullable Throwable cause) {
		super(message(kind, detail, tenant, dataSource, role, sqlState), cause);
		this.kind = kind;
		this.tenant = tenant;
		this.dataSource = dataSource;
		this.role = role;
		this.sqlState = sqlState;
	}

	private static String message(Kind kind, String detail, @Nullable String tenant,
			@Nullable String dataSource, @Nullable Role role, @Nullable String sqlState) {
		StringBuilder message = new StringBuilder(96).append(kind).append(": ").append(detail);
		String separator = " [";
		if (tenant != null) {
			message.append(separator).append("tenant=").append(tenant);
			separator = ", ";
		}
		if (dataSource != null) {
			message.append(separator).append("datasource=").append(dataSource);
			separator = ", ";
		}
		if (role != null) {
			message.append(separator).append("role=").append(role.tag());
			separator = ", ";
		}
		if (sqlState != null) {
			message.append(separator).append("sqlstate=").append(sqlState);
			separator = ", ";
		}
		return separator.equals(", ") ? message.append(']').toString() : message.toString();
	}

	/**
	 * The pipeline carries no routing context and no default tenant is configured.
	 * @return the error
	 */
	public static DataError missingContext() {
		return new DataError(Kind.MISSING_CONTEXT,
				"no RoutingContext in the Reactor Context; add .contextWrite(RoutingContext.forTenant(...)) "
						+ "downstream of the query, or configure a default tenant",
				null, null, null, null, null);
	}

	/**
	 * The tenant is not registered.
	 * @param tenant the unknown tenant
	 * @return the error
	 */
	public static DataError unknownTenant(TenantId tenant) {
		return new DataError(Kind.UNKNOWN_TENANT, "tenant '" + tenant + "' is not registered",
				tenant.value(), null, null, null, null);
	}

	/**
	 * The tenant was offboarded: new work for it is refused.
	 * @param tenant the offboarded tenant
	 * @return the error
	 */
	public static DataError tenantOffboarded(TenantId tenant) {
		return new DataError(Kind.TENANT_OFFBOARDED, "tenant '" + tenant + "' was offboarded",
				tenant.value(), null, null, null, null);
	}

	/**
	 * The tenant id is malformed.
	 * @param value the rejected value
	 * @param problem what is wrong with it
	 * @return the error
	 */
	public static DataError invalidTenantId(@Nullable String value, String problem) {
		String shown = value == null ? "null" : "'" + abbreviate(value) + "'";
		return new DataError(Kind.INVALID_TENANT_ID, "invalid tenant id " + shown + ": " + problem,
				null, null, null, null, null);
	}

	/**
	 * A statement inside a running transaction asked for another tenant.
	 * @param transactionTenant the tenant the transaction runs for
	 * @param transactionDataSource the datasource the transaction runs on
	 * @param requestedTenant the tenant the statement asked for
	 * @return the error
	 */
	public static DataError routingConflict(TenantId transactionTenant, String transactionDataSource,
			TenantId requestedTenant) {
		return new DataError(Kind.ROUTING_CONFLICT,
				"a statement for tenant '" + requestedTenant + "' ran inside the transaction of tenant '"
						+ transactionTenant + "'; the transaction is rolled back",
				transactionTenant.value(), transactionDataSource, Role.PRIMARY, null, null);
	}

	/**
	 * The connection was lost while a commit or an autocommit write was in flight.
	 * @param what what was in flight, such as "the commit"
	 * @param tenant the tenant
	 * @param dataSource the datasource
	 * @param role the role of the server
	 * @param sqlState the SQLSTATE of the failure, or {@code null}
	 * @param cause the driver's failure
	 * @return the error
	 */
	public static DataError outcomeUnknown(String what, @Nullable TenantId tenant, String dataSource, Role role,
			@Nullable String sqlState, Throwable cause) {
		return new DataError(Kind.OUTCOME_UNKNOWN, "the connection was lost while " + what
				+ " was in flight: it may or may not have been applied (" + cause.getMessage() + ")",
				tenant != null ? tenant.value() : null, dataSource, role, sqlState, cause);
	}

	/**
	 * A statement on a connection whose transaction ended (committed, rolled back, or cancelled)
	 * or that was closed: it was not sent. A cancelled transaction's work that goes on running
	 * gets this.
	 * @param tenant the tenant of the connection
	 * @param dataSource the datasource
	 * @param role the role of the server
	 * @return the error
	 */
	public static DataError transactionEnded(TenantId tenant, String dataSource, Role role) {
		return new DataError(Kind.PERMANENT, "the connection's transaction has ended (committed, rolled back or"
				+ " cancelled) or the connection was closed: the statement was not sent",
				tenant.value(), dataSource, role, null, null);
	}

	/**
	 * The tenant moved to another datasource between the moment its statement (or transaction) was
	 * prepared for one, in that datasource's SQL dialect, and the moment it was routed: nothing was
	 * sent, and the same request, made again, goes to the new datasource.
	 * @param tenant the tenant
	 * @param preparedFor the datasource the work was prepared for
	 * @param now the datasource the tenant lives on now
	 * @return the error, {@link Kind#TENANT_MOVED}
	 */
	public static DataError tenantMoved(TenantId tenant, String preparedFor, String now) {
		return new DataError(Kind.TENANT_MOVED, "tenant '" + tenant + "' moved from datasource '" + preparedFor
				+ "' to '" + now + "' while its work was prepared: nothing was sent; retry",
				tenant.value(), now, null, null, null);
	}

	/**
	 * A transaction of its own was asked for inside a running transaction that another manager
	 * (Spring's) owns: it would commit or roll back apart from it.
	 * @param transactionTenant the tenant of the running transaction
	 * @param transactionDataSource its datasource
	 * @return the error
	 */
	public static DataError nestedTransaction(TenantId transactionTenant, String transactionDataSource) {
		return new DataError(Kind.ROUTING_CONFLICT, "a transaction of its own was asked for inside a running (Spring)"
				+ " transaction; it would commit apart from it: run the work inside that transaction (it joins it), or"
				+ " nest with Spring's PROPAGATION_NESTED or REQUIRES_NEW",
				transactionTenant.value(), transactionDataSource, Role.PRIMARY, null, null);
	}

	/**
	 * No server of the datasource can take the statement.
	 * @param tenant the tenant
	 * @param dataSource the datasource
	 * @param role the role that was wanted
	 * @param cause the last failure, or {@code null}
	 * @return the error
	 */
	public static DataError noHealthyTarget(TenantId tenant, String dataSource, Role role,
			@Nullable Throwable cause) {
		return new DataError(Kind.NO_HEALTHY_TARGET, "no healthy " + role.tag() + " can serve the statement",
				tenant.value(), dataSource, role, null, cause);
	}

	/**
	 * A causal read-your-writes token is malformed.
	 * @param value the token as received, or {@code null}
	 * @param problem what is wrong with it
	 * @return the error
	 */
	public static DataError invalidCausalToken(@Nullable String value, String problem) {
		String shown = value == null ? "(none)" : "'" + abbreviate(value) + "'";
		return new DataError(Kind.INVALID_CAUSAL_TOKEN, "invalid causal token " + shown + ": " + problem,
				null, null, null, null, null);
	}

	/**
	 * Find the {@code DataError} in a failure's cause chain: the failure itself, or the first
	 * cause that is one. Frameworks wrap it: Spring's transaction support in
	 * {@code CannotCreateTransactionException} or {@code TransactionSystemException}, Spring's
	 * {@code DatabaseClient} in {@code DataAccessResourceFailureException}, jOOQ in
	 * {@code org.jooq.exception.DataAccessException}, so {@code onErrorResume(DataError.class, ...)}
	 * misses those. Decide on the found error instead:
	 *
	 * <pre class="code">
	 * orders.place(order)                                   // a {@literal @}Transactional method
	 *     .contextWrite(RoutingContext.forTenant(tenant))
	 *     .onErrorResume(failure -&gt; {
	 *         DataError error = DataError.find(failure);
	 *         return error != null &amp;&amp; error.isTransient()
	 *                 ? orders.place(order).contextWrite(RoutingContext.forTenant(tenant))  // retry once
	 *                 : Mono.error(failure);
	 *     });
	 * </pre>
	 *
	 * <p>Null-safe, and safe on malformed chains: it follows at most 32 causes, so a cause chain
	 * with a cycle ends. Suppressed exceptions are not searched.
	 * @param failure any failure, or {@code null}
	 * @return the first {@code DataError} in the chain, or {@code null} if there is none
	 */
	public static @Nullable DataError find(@Nullable Throwable failure) {
		Throwable current = failure;
		for (int depth = 0; current != null && depth < MAX_CAUSE_DEPTH; depth++) {
			if (current instanceof DataError error) {
				return error;
			}
			current = current.getCause();
		}
		return null;
	}

	private static String abbreviate(String value) {
		String shown = value.length() > 80 ? value.substring(0, 80) + "..." : value;
		StringBuilder escaped = new StringBuilder(shown.length());
		for (int i = 0; i < shown.length(); i++) {
			char c = shown.charAt(i);
			if (Character.isISOControl(c)) {
				escaped.append(String.format("\\u%04x", (int) c));
			}
			else {
				escaped.append(c);
			}
		}
		return escaped.toString();
	}

	/**
	 * Return the kind of failure.
	 * @return the kind
	 */
	public Kind kind() {
		return this.kind;
	}

	/**
	 * Tell whether a retry may succeed.
	 * @return {@code kind().isTransient()}
	 */
	public boolean isTransient() {
		return this.kind.isTransient();
	}

	/**
	 * Return the tenant the failure concerns.
	 * @return the tenant id, or {@code null} if it was not known
	 */
	public @Nullable String tenant() {
		return this.tenant;
	}

	/**
	 * Return the datasource the failure concerns.
	 * @return the datasource name, or {@code null} if routing did not get that far
	 */
	public @Nullable String dataSource() {
		return this.dataSource;
	}

	/**
	 * Return the role of the server the failure concerns.
	 * @return the role, or {@code null} if routing did not get that far
	 */
	public @Nullable Role role() {
		return this.role;
	}

	/**
	 * Return the SQLSTATE reported by the server.
	 * @return the SQLSTATE, or {@code null} if the failure has none
	 */
	public @Nullable String sqlState() {
		return this.sqlState;
	}
}
