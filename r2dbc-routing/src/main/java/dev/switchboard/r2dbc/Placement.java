package dev.switchboard.r2dbc;

import java.util.Objects;

/**
 * Where a tenant's data lives: the datasource its connections are routed to. A value, compared by
 * what it names; the unit that {@link TenantDirectory#onboard}, {@link TenantDirectory#move} and
 * a {@link TenantSource} speak in.
 *
 * <pre class="code">
 * directory.onboard(TenantId.of("acme"), Placement.on("pg-main")).block();
 * </pre>
 */
public final class Placement {

	private final String dataSource;

	private Placement(String dataSource) {
		this.dataSource = dataSource;
	}

	/**
	 * Place a tenant on the datasource named {@code dataSource}.
	 * @param dataSource the datasource's name
	 * @return the placement
	 * @throws DirectoryException of reason {@link DirectoryException.Reason#INVALID_PLACEMENT} if
	 * the name is null or blank
	 */
	public static Placement on(String dataSource) {
		if (dataSource == null || dataSource.isBlank()) {
			throw new DirectoryException(DirectoryException.Reason.INVALID_PLACEMENT, null,
					"a placement names a datasource; was " + (dataSource == null ? "null" : "'" + dataSource + "'"));
		}
		return new Placement(dataSource);
	}

	/**
	 * Return the name of the datasource.
	 * @return the datasource's name
	 */
	public String dataSource() {
		return this.dataSource;
	}

	@Override
	public boolean equals(Object other) {
		return other instanceof Placement placement && this.dataSource.equals(placement.dataSource);
	}

	@Override
	public int hashCode() {
		return Objects.hashCode(this.dataSource);
	}

	@Override
	public String toString() {
		return this.dataSource;
	}
}
