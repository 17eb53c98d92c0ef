package dev.switchboard.r2dbc;

import org.jspecify.annotations.Nullable;

/**
 * An operation of {@link TenantDirectory} refused, with the reason as a value so that callers
 * (an admin endpoint, a catalog sync) can answer without parsing messages. Nothing was changed.
 */
public final class DirectoryException extends RuntimeException {

	private static final long serialVersionUID = 1L;

	private final Reason reason;

	private final @Nullable String tenant;

	/** Why an operation was refused. */
	public enum Reason {

		/** The tenant to onboard is registered already: onboard never overwrites. */
		TENANT_EXISTS,

		/** The tenant to move or offboard is not registered (or was offboarded already). */
		UNKNOWN_TENANT,

		/** The placement names no datasource, or one the directory does not hold. */
		INVALID_PLACEMENT,

		/** A datasource of the same name is registered already. */
		DATASOURCE_EXISTS,

		/** The datasource to remove is not registered. */
		UNKNOWN_DATASOURCE,

		/** The datasource to remove still serves tenants: move or offboard them first. */
		DATASOURCE_IN_USE,

		/** The directory was disposed. */
		DISPOSED
	}

	DirectoryException(Reason reason, @Nullable String tenant, String message) {
		super(message, null, false, false);
		this.reason = reason;
		this.tenant = tenant;
	}

	/**
	 * Return why the operation was refused.
	 * @return the reason
	 */
	public Reason reason() {
		return this.reason;
	}

	/**
	 * Return the tenant the operation was for.
	 * @return its id, or {@code null} for an operation on a datasource
	 */
	public @Nullable String tenant() {
		return this.tenant;
	}

	@Override
	public String toString() {
		return "DirectoryException[" + this.reason + "]: " + getMessage();
	}
}
