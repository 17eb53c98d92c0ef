package dev.switchboard.r2dbc;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactoryOptions;

/**
 * Turns the R2DBC URL of one setting of a datasource into a connection factory, refusing at once
 * what would otherwise fail only later: the R2DBC SPI parser keeps an authority it cannot split
 * (an empty host, {@code :notaport}, {@code :-1}) as the host, and the drivers accept it until the
 * first connect; a port such as 99999 passes the parser and the MariaDB driver but makes
 * r2dbc-postgresql throw {@code port out of range} from {@code new ConnectionPool}, outside any
 * message naming the setting (issue 13). Every message names the setting and the datasource, and
 * shows the URL with its password hidden.
 */
final class ConnectionUrls {

	private static final int MAX_PORT = 65535;

	private ConnectionUrls() {
	}

	/**
	 * Check {@code url} and return it as a server of the datasource. Its factory is created by
	 * {@link ServerSetting#connectionFactory}, once the datasource's user and password are known: a
	 * URL without a user is fine when the user is given apart.
	 * @param dataSource the datasource the setting belongs to
	 * @param setting {@code primary} or {@code replicas[i]}
	 * @param url the URL as configured
	 * @return the server and its options
	 * @throws IllegalArgumentException naming the setting, if the URL is blank, its host or port is
	 * malformed, or no driver understands it
	 */
	static ServerSetting server(String dataSource, String setting, String url) {
		String prefix = setting + " URL of datasource '" + dataSource + "'";
		if (url == null || url.isBlank()) {
			throw new IllegalArgumentException(prefix + " must not be blank");
		}
		try {
			ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(url);
			checkAddress(options);
			if (!ConnectionFactories.supports(options)) {
				throw new IllegalStateException("no R2DBC driver on the class path supports it");
			}
			return ServerSetting.ofUrl(setting, options, redact(url));
		}
		catch (BadAddress ex) {
			throw new IllegalArgumentException(prefix + " " + ex.getMessage() + ": " + redact(url));
		}
		catch (RuntimeException ex) {
			throw new IllegalArgumentException(prefix + " is not usable: " + redact(url) + " ("
					+ ex.getMessage() + ")", ex);
		}
	}

	/**
	 * Check the host and port of parsed options. A host the parser could not split arrives whole
	 * ({@code host:port}), as does a PostgreSQL multi-host list ({@code h1:5432,h2:5433}): each
	 * entry is checked. Options without a host (a socket, an in-memory database) pass.
	 */
	private static void checkAddress(ConnectionFactoryOptions options) {
		Object port = options.getValue(ConnectionFactoryOptions.PORT);
		if (port != null) {
			checkPort(port.toString());
		}
		Object host = options.getValue(ConnectionFactoryOptions.HOST);
		if (host == null) {
			return;
		}
		for (String entry : host.toString().split(",", -1)) {
			// An IPv6 address in brackets has colons of its own: the port follows the bracket.
			int colon = entry.lastIndexOf(':');
			if (colon >= 0 && entry.indexOf(']') > colon) {
				colon = -1;
			}
			String name = colon >= 0 ? entry.substring(0, colon) : entry;
			if (name.isBlank()) {
				throw new BadAddress("has an empty host");
			}
			if (colon >= 0) {
				checkPort(entry.substring(colon + 1));
			}
		}
	}

	private static void checkPort(String port) {
		int value;
		try {
			value = Integer.parseInt(port);
		}
		catch (NumberFormatException ex) {
			throw new BadAddress("has port '" + port + "', which is not a number");
		}
		if (value < 1 || value > MAX_PORT) {
			throw new BadAddress("has port " + value + ", which is not from 1 to " + MAX_PORT);
		}
	}

	/** A malformed host or port, before the setting is named. */
	private static final class BadAddress extends RuntimeException {

		private static final long serialVersionUID = 1L;

		BadAddress(String message) {
			super(message, null, false, false);
		}
	}

	/** Hide the password of a URL such as {@code r2dbc:postgresql://user:secret@host/db}. */
	static String redact(String url) {
		int scheme = url.indexOf("://");
		int at = url.indexOf('@', scheme + 3);
		if (scheme < 0 || at < 0) {
			return url;
		}
		int colon = url.indexOf(':', scheme + 3);
		return colon > 0 && colon < at ? url.substring(0, colon + 1) + "****" + url.substring(at) : url;
	}
}
