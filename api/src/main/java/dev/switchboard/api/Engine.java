package dev.switchboard.api;

import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * The database engines Switchboard tells apart, and the one place that tells them: from what a
 * server or connection factory reports, or from an R2DBC URL.
 */
public enum Engine {

	/** PostgreSQL. */
	POSTGRESQL,

	/** MariaDB. */
	MARIADB,

	/** MySQL. */
	MYSQL,

	/** H2, for demos and tests. */
	H2;

	/**
	 * Tell the engine from the product name and version a server or connection factory reports.
	 * The r2dbc-mysql driver reports a MariaDB server's product as MySQL, with a version such as
	 * {@code 10.11.6-MariaDB}: the version tells them apart where it is known.
	 * @param productName the product name, such as {@code PostgreSQL} or {@code MySQL}
	 * @param version the server's version, or {@code null} when not known (a factory's metadata)
	 * @return the engine, or {@code null} for a product Switchboard does not know
	 */
	public static @Nullable Engine fromProduct(String productName, @Nullable String version) {
		String product = productName.toLowerCase(Locale.ROOT);
		if (product.contains("postgres")) {
			return POSTGRESQL;
		}
		if (product.contains("mariadb") || (version != null && version.toLowerCase(Locale.ROOT).contains("mariadb"))) {
			return MARIADB;
		}
		if (product.contains("mysql")) {
			return MYSQL;
		}
		return product.equals("h2") ? H2 : null;
	}

	/**
	 * Tell the engine from the driver an R2DBC URL names, such as
	 * {@code r2dbc:postgresql://host/db} or {@code r2dbc:pool:mariadb://host/db}.
	 * @param url the URL
	 * @return the engine, or {@code null} for a driver Switchboard does not know
	 */
	public static @Nullable Engine fromUrl(String url) {
		String lower = url.toLowerCase(Locale.ROOT);
		if (lower.contains(":postgresql:") || lower.contains(":postgres:")) {
			return POSTGRESQL;
		}
		if (lower.contains(":mariadb:")) {
			return MARIADB;
		}
		if (lower.contains(":mysql:")) {
			return MYSQL;
		}
		return lower.contains(":h2:") ? H2 : null;
	}
}
