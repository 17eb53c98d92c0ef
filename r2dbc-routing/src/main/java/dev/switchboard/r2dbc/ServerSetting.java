package dev.switchboard.r2dbc;

import java.util.Objects;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.jspecify.annotations.Nullable;

/**
 * A primary or a replica as given to {@link ReplicatedDataSource.Builder}: a ready connection
 * factory, or a checked URL whose driver factory is created at {@code build()}, with the
 * datasource's {@link Credentials} set, so that a user and password given apart from the URLs
 * apply whatever the order of the builder's calls (and a URL may leave its user out).
 *
 * @param setting {@code primary} or {@code replicas[i]}
 * @param factory the factory as given, or {@code null} for a URL
 * @param options the URL's options, or {@code null} for a factory given ready
 * @param shownUrl the URL with its password hidden, or {@code null} for a factory given ready
 */
record ServerSetting(String setting, @Nullable ConnectionFactory factory, @Nullable ConnectionFactoryOptions options,
		@Nullable String shownUrl) {

	/**
	 * A server given as a connection factory: credentials do not apply to it.
	 * @param setting {@code primary} or {@code replicas[i]}
	 * @param factory the factory
	 * @return the server
	 */
	static ServerSetting ofFactory(String setting, ConnectionFactory factory) {
		return new ServerSetting(setting, factory, null, null);
	}

	/**
	 * A server given as a URL.
	 * @param setting {@code primary} or {@code replicas[i]}
	 * @param options the parsed URL, which a driver on the class path supports
	 * @param shownUrl the URL with its password hidden, for messages
	 * @return the server
	 */
	static ServerSetting ofUrl(String setting, ConnectionFactoryOptions options, String shownUrl) {
		return new ServerSetting(setting, null, options, shownUrl);
	}

	/**
	 * Tell whether this server was given as a URL, so that the datasource's credentials apply.
	 * @return {@code true} for a URL
	 */
	boolean fromUrl() {
		return this.options != null;
	}

	/**
	 * Return the factory to pool: the one given, or the driver's factory for the URL's options with
	 * the credentials set.
	 * @param dataSource the datasource's name, for messages
	 * @param credentials the datasource's credentials, perhaps {@link Credentials#NONE}
	 * @return the factory
	 * @throws InvalidSettingException naming the setting, if the credentials do not suit its driver or
	 * the driver refuses the options
	 */
	ConnectionFactory connectionFactory(String dataSource, Credentials credentials) {
		ConnectionFactoryOptions parsed = this.options;
		if (parsed == null) {
			return Objects.requireNonNull(this.factory);
		}
		ConnectionFactoryOptions withCredentials = credentials.isEmpty() ? parsed
				: credentials.applyTo(parsed, dataSource, this.setting);
		try {
			return ConnectionFactories.get(withCredentials);
		}
		catch (RuntimeException ex) {
			// The drivers' messages show the options with the password redacted (SPI: PASSWORD is sensitive).
			throw new InvalidSettingException(dataSource, this.setting, "is not usable: " + this.shownUrl
					+ (credentials.isEmpty() ? "" : " with " + credentials) + " (" + ex.getMessage() + ")", ex);
		}
	}

	@Override
	public String toString() {
		return this.setting + "=" + (this.shownUrl != null ? this.shownUrl : this.factory);
	}
}
