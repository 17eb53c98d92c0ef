package dev.switchboard.r2dbc;

import java.time.Duration;

import io.r2dbc.postgresql.api.PostgresqlConnection;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.Wrapped;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The {@code LISTEN} of a {@link TableTenantSource} on PostgreSQL, through r2dbc-postgresql's own
 * notification API. The only class of this module that needs r2dbc-postgresql (an optional
 * dependency): {@link TableTenantSource} calls it only when its catalog is PostgreSQL, so that it is
 * never loaded otherwise.
 */
final class PostgresChanges {

	/** How long an {@code UNLISTEN} may take before the connection is closed anyway. */
	private static final Duration UNLISTEN_TIMEOUT = Duration.ofSeconds(2);

	private PostgresChanges() {
	}

	/**
	 * Listen on {@code channel} on a connection of its own.
	 * @param factory where to open the connection
	 * @param channel the channel, as {@code pg_notify} names it (not folded to lower case)
	 * @param server the server, for messages
	 * @return {@code channel} once the {@code LISTEN} is in place and once per notification; fails
	 * when the connection breaks or closes; closes the connection when cancelled or failed
	 */
	static Flux<Object> listen(ConnectionFactory factory, String channel, String server) {
		return Flux.usingWhen(factory.create(),
				connection -> listen(connection, channel, server),
				PostgresChanges::close,
				(connection, failure) -> close(connection),
				PostgresChanges::close);
	}

	private static Flux<Object> listen(Connection connection, String channel, String server) {
		PostgresqlConnection postgres = unwrap(connection);
		if (postgres == null) {
			return Flux.error(new IllegalStateException("cannot LISTEN on " + server + ": its connection "
					+ connection + " is not an r2dbc-postgresql connection"));
		}
		// Subscribed before the LISTEN, so that no notification falls between the two.
		Flux<Object> notifications = postgres.getNotifications()
				.<Object>map(notification -> channel)
				.concatWith(Flux.error(() -> new R2dbcNonTransientResourceException(
						"the connection listening on channel '" + channel + "' of " + server + " closed")));
		Mono<Object> listening = Flux.from(connection.createStatement("LISTEN " + quote(channel)).execute())
				.concatMap(result -> result.getRowsUpdated())
				.then(Mono.just(channel));
		return Flux.merge(notifications, listening);
	}

	private static @Nullable PostgresqlConnection unwrap(Object connection) {
		Object current = connection;
		for (int depth = 0; depth < 8; depth++) {
			if (current instanceof PostgresqlConnection postgres) {
				return postgres;
			}
			if (!(current instanceof Wrapped<?> wrapped)) {
				return null;
			}
			current = wrapped.unwrap();
		}
		return null;
	}

	/**
	 * Close the connection; a connection that came from a pool first stops listening, so that the
	 * next user of it is not woken by this channel.
	 */
	private static Mono<Void> close(Connection connection) {
		Mono<Void> close = Mono.from(connection.close()).onErrorComplete();
		if (connection instanceof PostgresqlConnection) {
			return close;
		}
		return Flux.from(connection.createStatement("UNLISTEN *").execute())
				.concatMap(result -> result.getRowsUpdated())
				.then()
				.timeout(UNLISTEN_TIMEOUT)
				.onErrorComplete()
				.then(close);
	}

	/** A channel as a quoted identifier: its case kept, as {@code pg_notify} keeps it. */
	private static String quote(String channel) {
		return '"' + channel.replace("\"", "\"\"") + '"';
	}
}
