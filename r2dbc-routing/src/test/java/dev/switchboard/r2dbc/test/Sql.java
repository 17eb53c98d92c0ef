package dev.switchboard.r2dbc.test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.ReadableMetadata;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.Statement;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Small reactive and blocking helpers for tests that talk to the topology directly. The blocking
 * ones are for the test thread only, never for a Reactor thread.
 */
public final class Sql {

	private static final Duration TIMEOUT = Duration.ofSeconds(30);

	private Sql() {
	}

	/**
	 * Run one statement on a fresh connection of {@code factory} and return its rows, each as a
	 * map from lower-case column name to value.
	 * @param factory where to run it
	 * @param sql the SQL, with driver placeholders
	 * @param binds values bound by index
	 * @return a {@code Flux} of rows
	 */
	public static Flux<Map<String, Object>> rows(ConnectionFactory factory, String sql, Object... binds) {
		return Flux.usingWhen(factory.create(),
				connection -> Flux.from(statement(connection, sql, binds).execute()).concatMap(Sql::toMaps),
				Connection::close);
	}

	/**
	 * Run one statement on a fresh connection and return the number of rows it changed.
	 * @param factory where to run it
	 * @param sql the SQL
	 * @param binds values bound by index
	 * @return a {@code Mono} of the update count
	 */
	public static Mono<Long> update(ConnectionFactory factory, String sql, Object... binds) {
		return Flux.usingWhen(factory.create(),
				connection -> Flux.from(statement(connection, sql, binds).execute())
						.concatMap(Result::getRowsUpdated),
				Connection::close)
				.reduce(0L, Long::sum);
	}

	/** Blocking form of {@link #rows}, for the test thread. */
	public static List<Map<String, Object>> query(ConnectionFactory factory, String sql, Object... binds) {
		List<Map<String, Object>> rows = rows(factory, sql, binds).collectList().block(TIMEOUT);
		return rows != null ? rows : List.of();
	}

	/** Blocking form of {@link #update}, for the test thread. */
	public static long execute(ConnectionFactory factory, String sql, Object... binds) {
		Long count = update(factory, sql, binds).block(TIMEOUT);
		return count != null ? count : 0L;
	}

	private static Statement statement(Connection connection, String sql, Object... binds) {
		Statement statement = connection.createStatement(sql);
		for (int i = 0; i < binds.length; i++) {
			statement.bind(i, binds[i]);
		}
		return statement;
	}

	private static Flux<Map<String, Object>> toMaps(Result result) {
		return Flux.from(result.map(Sql::toMap));
	}

	private static Map<String, Object> toMap(Readable readable) {
		Map<String, Object> row = new LinkedHashMap<>();
		if (readable instanceof Row r) {
			List<String> names = new ArrayList<>();
			for (ReadableMetadata column : r.getMetadata().getColumnMetadatas()) {
				names.add(column.getName().toLowerCase(java.util.Locale.ROOT));
			}
			for (int i = 0; i < names.size(); i++) {
				Object value = r.get(i);
				row.put(names.get(i), value);
			}
		}
		return row;
	}
}
