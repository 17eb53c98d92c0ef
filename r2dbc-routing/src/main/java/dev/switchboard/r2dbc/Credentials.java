package dev.switchboard.r2dbc;

import java.util.function.Supplier;

import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.Option;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

/**
 * The user and password of a datasource given apart from its URLs, and how each driver is told
 * them. Immutable; {@link #toString()} never shows the password.
 *
 * <p>A password that changes (a rotated secret) must be asked again for each new physical
 * connection, and each driver has its own way to ask (read from r2dbc-postgresql 1.1.3 and
 * r2dbc-mysql 1.4.3; the R2DBC SPI 1.0 types {@code PASSWORD} as a {@code CharSequence} and leaves
 * other value types to the drivers):
 * <ul>
 * <li>r2dbc-postgresql takes a {@code Supplier} or a {@code Publisher} as the value of
 * {@link ConnectionFactoryOptions#PASSWORD} and subscribes to it again in every connect, before
 * authenticating;</li>
 * <li>r2dbc-mysql refuses anything but a {@code CharSequence} there ({@code IllegalArgumentException}
 * from {@code ConnectionFactories.get}); it takes its own option {@code passwordPublisher}, a
 * {@code Publisher<String>} that every {@code create()} subscribes to, and which wins over
 * {@code PASSWORD}.</li>
 * </ul>
 * Both are given the same guarded {@code Mono}, so that a supplier that returns {@code null} fails
 * the connection with a message naming the datasource, where r2dbc-mysql would otherwise complete
 * {@code create()} empty. Other drivers get a fixed password only.
 */
final class Credentials {

	/** No user and no password: the URLs' own, if any, apply. */
	static final Credentials NONE = new Credentials(null, null, null);

	/** r2dbc-mysql's {@code MySqlConnectionFactoryProvider.PASSWORD_PUBLISHER}, named here to keep the driver optional. */
	static final Option<Publisher<String>> MYSQL_PASSWORD_PUBLISHER = Option.valueOf("passwordPublisher");

	/**
	 * {@link ConnectionFactoryOptions#PASSWORD}, typed for the publisher r2dbc-postgresql accepts: the
	 * SPI types it {@code CharSequence}, but stores any value and returns it as an {@code Object}
	 * ({@code getValue} has had no generic type since SPI 0.9).
	 */
	@SuppressWarnings({ "unchecked", "rawtypes" })
	private static final Option<Publisher<CharSequence>> POSTGRESQL_PASSWORD_PUBLISHER =
			(Option) ConnectionFactoryOptions.PASSWORD;

	private final @Nullable String user;

	private final @Nullable CharSequence password;

	private final @Nullable Mono<? extends CharSequence> passwordSource;

	private Credentials(@Nullable String user, @Nullable CharSequence password,
			@Nullable Mono<? extends CharSequence> passwordSource) {
		this.user = user;
		this.password = password;
		this.passwordSource = passwordSource;
	}

	Credentials withUser(String user) {
		return new Credentials(user, this.password, this.passwordSource);
	}

	Credentials withPassword(CharSequence password) {
		return new Credentials(this.user, password, null);
	}

	Credentials withPassword(Supplier<? extends CharSequence> password) {
		return new Credentials(this.user, null, Mono.fromSupplier(password));
	}

	Credentials withPassword(Publisher<? extends CharSequence> password) {
		return new Credentials(this.user, null, Mono.from(password));
	}

	boolean isEmpty() {
		return this.user == null && this.password == null && this.passwordSource == null;
	}

	/**
	 * Return {@code options} with this user and password set in place of the URL's.
	 * @param options a server's options, parsed from its URL
	 * @param dataSource the datasource, for messages
	 * @param setting {@code primary} or {@code replicas[i]}, for messages
	 * @return the options to create the driver's factory from
	 * @throws InvalidSettingException if the password is asked per connection and the server's driver
	 * has no way to ask
	 */
	ConnectionFactoryOptions applyTo(ConnectionFactoryOptions options, String dataSource, String setting) {
		ConnectionFactoryOptions.Builder builder = ConnectionFactoryOptions.builder();
		boolean replacePassword = this.password != null || this.passwordSource != null;
		builder.from(options, option -> !replacePassword || !option.equals(ConnectionFactoryOptions.PASSWORD));
		if (this.user != null) {
			builder.option(ConnectionFactoryOptions.USER, this.user);
		}
		if (this.password != null) {
			builder.option(ConnectionFactoryOptions.PASSWORD, this.password);
		}
		Mono<? extends CharSequence> source = this.passwordSource;
		if (source != null) {
			Mono<CharSequence> asked = source.<CharSequence>map(value -> value)
					.switchIfEmpty(Mono.error(() -> new IllegalStateException("the password supplier of " + setting
							+ " of datasource '" + dataSource + "' returned no password")));
			String driver = driver(options);
			switch (driver) {
				case "postgresql", "postgres" -> builder.option(POSTGRESQL_PASSWORD_PUBLISHER, asked);
				case "mysql" -> builder.option(MYSQL_PASSWORD_PUBLISHER, asked.map(CharSequence::toString));
				default -> throw new InvalidSettingException(dataSource, "password", "is asked per connection, which driver '"
						+ driver + "' of " + setting + " cannot do (r2dbc-postgresql and r2dbc-mysql can): give it a fixed password");
			}
		}
		return builder.build();
	}

	/** The driver that reads the options: behind r2dbc-pool's {@code r2dbc:pool:<driver>:...}, the protocol's first part. */
	private static String driver(ConnectionFactoryOptions options) {
		String driver = String.valueOf(options.getValue(ConnectionFactoryOptions.DRIVER));
		Object protocol = options.getValue(ConnectionFactoryOptions.PROTOCOL);
		if ("pool".equals(driver) && protocol != null) {
			String inner = protocol.toString();
			int colon = inner.indexOf(':');
			return colon >= 0 ? inner.substring(0, colon) : inner;
		}
		return driver;
	}

	@Override
	public String toString() {
		String shown = this.passwordSource != null ? "asked per connection" : this.password != null ? "****" : "from the URL";
		return "credentials[user=" + (this.user != null ? this.user : "from the URL") + ", password=" + shown + "]";
	}
}
