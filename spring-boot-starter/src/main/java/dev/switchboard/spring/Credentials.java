package dev.switchboard.spring;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.jspecify.annotations.Nullable;

/**
 * Puts the {@code username} and {@code password} settings of a datasource into its R2DBC URLs,
 * percent-encoded, so that a password with {@code @}, {@code /} or {@code #} reaches the driver
 * whole. Written into the URL rather than set as options, so that the URL still goes through
 * {@code ReplicatedDataSource.Builder}'s checks of host and port; the R2DBC URL parser decodes the
 * user info. A URL without a host (an in-memory or file database) has no user info to fill: its
 * credentials are set as options of the driver's connection factory instead.
 */
final class Credentials {

	private Credentials() {
	}

	/**
	 * Return {@code url} with its user info replaced by {@code username} and {@code password}
	 * where they are set; a part that is not set keeps what the URL has.
	 * @param url an R2DBC URL, {@code r2dbc:driver[:protocol]://[user[:password]@]host...}
	 * @param username the user, or {@code null}
	 * @param password the password, or {@code null}
	 * @return the URL to give the driver; {@code url} itself when neither is set or it has no
	 * {@code ://}
	 */
	static String apply(String url, @Nullable String username, @Nullable String password) {
		if (username == null && password == null) {
			return url;
		}
		int start = url.indexOf("://");
		if (start < 0) {
			return url;
		}
		start += 3;
		int end = start;
		while (end < url.length() && "/?".indexOf(url.charAt(end)) < 0) {
			end++;
		}
		String authority = url.substring(start, end);
		int at = authority.lastIndexOf('@');
		String userInfo = at >= 0 ? authority.substring(0, at) : "";
		String hostAndPort = at >= 0 ? authority.substring(at + 1) : authority;
		int colon = userInfo.indexOf(':');
		String user = username != null ? encode(username) : (colon >= 0 ? userInfo.substring(0, colon) : userInfo);
		String secret = password != null ? encode(password) : (colon >= 0 ? userInfo.substring(colon + 1) : null);
		String info = secret != null ? user + ":" + secret : user;
		return url.substring(0, start) + info + "@" + hostAndPort + url.substring(end);
	}

	/**
	 * Tell whether {@code url} has no host, so that its credentials go through
	 * {@link #connectionFactory} rather than {@link #apply}.
	 * @param url an R2DBC URL
	 * @param username the user, or {@code null}
	 * @param password the password, or {@code null}
	 * @return {@code true} when a credential is set and the URL names no host
	 */
	static boolean hostless(String url, @Nullable String username, @Nullable String password) {
		if (username == null && password == null) {
			return false;
		}
		try {
			return ConnectionFactoryOptions.parse(url).getValue(ConnectionFactoryOptions.HOST) == null;
		}
		catch (RuntimeException ex) {
			return false;
		}
	}

	/**
	 * Return the driver's connection factory for {@code url} with the credentials set as options.
	 * @param url an R2DBC URL
	 * @param username the user, or {@code null}
	 * @param password the password, or {@code null}
	 * @return the factory
	 * @throws IllegalArgumentException if no driver understands the URL; the message shows the
	 * options with the password redacted
	 */
	static ConnectionFactory connectionFactory(String url, @Nullable String username, @Nullable String password) {
		ConnectionFactoryOptions.Builder options = ConnectionFactoryOptions.parse(url).mutate();
		if (username != null) {
			options.option(ConnectionFactoryOptions.USER, username);
		}
		if (password != null) {
			options.option(ConnectionFactoryOptions.PASSWORD, password);
		}
		ConnectionFactoryOptions built = options.build();
		try {
			return ConnectionFactories.get(built);
		}
		catch (RuntimeException ex) {
			throw new IllegalArgumentException("is not usable: " + built + " (" + ex.getMessage() + ")", ex);
		}
	}

	private static String encode(String value) {
		// URLEncoder writes form encoding: a space becomes '+', which a URL's user info keeps as '+'.
		return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
	}
}
