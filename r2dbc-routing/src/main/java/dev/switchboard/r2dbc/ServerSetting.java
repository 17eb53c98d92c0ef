package dev.switchboard.r2dbc;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import org.jspecify.annotations.Nullable;

/**
 * A primary or a replica as given to {@link ReplicatedDataSource.Builder}: a ready connection
 * factory, or a URL already checked and turned into one. The factory of a URL is built again from
 * its options when the datasource has {@link Credentials} of its own, so that a user and password
 * given apart from the URLs apply whatever the order of the builder's calls.
 *
 * @param setting {@code primary} or {@code replicas[i]}
 * @param factory the factory as given, or the driver's factory for the URL as written
 * @param options the URL's options, or {@code null} for a factory given ready
 * @param shownUrl the URL with its password hidden, or {@code null} for a factory given ready
 */
record ServerSetting(String setting, ConnectionFactory factory, @Nullable ConnectionFactoryOptions options,
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
	 * @param options the parsed URL
	 * @param factory the driver's factory for the URL as written
	 * @param shownUrl the URL with its password hidden, for messages
	 * @return the server
	 */
	static ServerSetting ofUrl(String setting, ConnectionFactoryOptions options, ConnectionFactory factory,
			String shownUrl) {
		return new ServerSetting(setting, factory, options, shownUrl);
	}

	/**
	 * Tell whether this server was given as a URL, so that the datasource's credentials apply.
	 * @return {@code true} for a URL
	 */
	boolean fromUrl() {
		return this.options != null;
	}

	/**
	 * Return the factory to pool: the one given, or for a URL with credentials, the driver's factory
	 * for the URL's options with the credentials set.
	 * @param dataSource the datasource's name, for messages
	 * @param credentials the datasource's credentials, perhaps {@link Credentials#NONE}
	 * @return the factory
	 * @throws InvalidSettingException naming the setting, if the credentials do not suit its driver or
	 * the driver refuses the options
	 */
	ConnectionFactory connectionFactory(String dataSource, Credentials credentials) {
		ConnectionFactoryOptions parsed = this.options;
		if (parsed == null || credentials.isEmpty()) {
			return this.factory;
		}
		ConnectionFactoryOptions withCredentials = credentials.applyTo(parsed, dataSource, this.setting);
		try {
			return ConnectionFactories.get(withCredentials);
		}
		catch (RuntimeException ex) {
			// The options' own toString hides the password; a driver's message may not, so it is left out.
			throw new InvalidSettingException(dataSource, this.setting, "is not usable with the datasource's "
					+ credentials + ": " + this.shownUrl + " (" + ex.getClass().getSimpleName() + ")", ex);
		}
	}

	@Override
	public String toString() {
		return this.setting + "=" + (this.shownUrl != null ? this.shownUrl : this.factory);
	}
}
