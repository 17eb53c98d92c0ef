package dev.switchboard.r2dbc;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Engine;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcTimeoutException;
import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * A {@link TenantSource} that reads a table of a catalog database, itself one of Switchboard's
 * {@link DataSource datasources}:
 * {@code SELECT tenant_id, datasource, state FROM <table>}.
 *
 * <p>The table is read through the catalog's own pools: its primary, or, when the primary cannot be
 * reached (it refuses connections, its pool times out, the connection breaks), each replica in turn,
 * servers known to be down last; a failure that says the server is unreachable is also
 * {@linkplain DataSource.Target#reportFailure reported} to its target. A replica may lag: a
 * directory reading one sees the catalog as it was a moment ago, which beats keeping no tenant
 * at all. The rows are returned as they are; the directory checks them and rejects a malformed one
 * alone (see {@link TenantSource}).
 *
 * <p>On PostgreSQL, {@link #changes()} {@code LISTEN}s on a channel named after the table (its
 * name in lower case, schema included: {@code public.tenants} listens on {@code "public.tenants"}),
 * on a connection of its own to the catalog's primary, taken from the driver behind the primary's
 * pool: it holds no pool slot and no tenant's lease. Each notification is a wake-up, and so is the
 * moment the {@code LISTEN} is in place, so that a change committed while nobody listened is read
 * too. The trigger of {@link #ddl(Engine, String)} notifies that channel on every insert, update,
 * delete and truncate. When that connection breaks, the change signals fail and the directory
 * listens again after a pause; when the directory is disposed, the connection is closed. On
 * MariaDB and MySQL there is no change signal: the refresh interval alone applies.
 *
 * <p>The catalog table, for PostgreSQL (as {@code tenant-catalog-postgresql.sql} next to this class
 * holds it, with the table {@code switchboard_tenants}):
 * <pre>{@code
 * CREATE TABLE IF NOT EXISTS switchboard_tenants (
 * 	tenant_id  VARCHAR(64) PRIMARY KEY,
 * 	datasource VARCHAR(64) NOT NULL,
 * 	state      VARCHAR(16) NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'offboarded'))
 * );
 * CREATE OR REPLACE FUNCTION switchboard_tenants_notify() RETURNS trigger LANGUAGE plpgsql AS $$
 * BEGIN
 * 	PERFORM pg_notify('switchboard_tenants', TG_OP);
 * 	RETURN NULL;
 * END
 * $$;
 * DROP TRIGGER IF EXISTS switchboard_notify ON switchboard_tenants;
 * CREATE TRIGGER switchboard_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard_tenants
 * 	FOR EACH STATEMENT EXECUTE FUNCTION switchboard_tenants_notify();
 * }</pre>
 * and for MariaDB ({@code tenant-catalog-mariadb.sql}) the same table, without the trigger.
 *
 * <p>Thread-safe; immutable.
 */
public final class TableTenantSource implements TenantSource {

	/** The table of the DDL scripts, replaced by {@link #ddl(Engine, String)}. */
	private static final String SCRIPT_TABLE = "switchboard_tenants";

	/**
	 * An unquoted SQL identifier, optionally qualified by a schema (a database on MariaDB). The
	 * length is checked apart: the whole name, which is also PostgreSQL's channel name, must fit
	 * PostgreSQL's 63 bytes.
	 */
	private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?");

	private static final int MAX_TABLE_NAME_LENGTH = 63;

	private final DataSource catalog;

	private final String table;

	private final String query;

	private TableTenantSource(DataSource catalog, String table) {
		this.catalog = catalog;
		this.table = table;
		this.query = "SELECT tenant_id, datasource, state FROM " + table;
	}

	/**
	 * Read the tenants from {@code table} on {@code catalog}.
	 * @param catalog the datasource that holds the table; it is not disposed by this source
	 * @param table the table's name, an unquoted SQL identifier ({@code [A-Za-z_][A-Za-z0-9_]*}),
	 * optionally qualified by its schema, at most 63 characters in all
	 * @return the source
	 * @throws IllegalArgumentException if the catalog is {@code null} or the table name is not such
	 * an identifier
	 */
	public static TableTenantSource of(DataSource catalog, String table) {
		if (catalog == null) {
			throw new IllegalArgumentException("catalog must not be null");
		}
		return new TableTenantSource(catalog, requireTableName(table));
	}

	/**
	 * Return the DDL of a catalog table: the table, and on PostgreSQL the trigger that notifies its
	 * channel. A script of several statements, for {@code psql}, the {@code mariadb} client, or a
	 * JDBC driver that runs several statements at once.
	 * @param engine {@link Engine#POSTGRESQL}, {@link Engine#MARIADB} or {@link Engine#MYSQL}
	 * @param table the table's name, as {@link #of(DataSource, String)} takes it
	 * @return the script
	 * @throws IllegalArgumentException if the engine has no script or the table name is invalid
	 */
	public static String ddl(Engine engine, String table) {
		String name = requireTableName(table);
		String resource = switch (engine) {
			case POSTGRESQL -> "tenant-catalog-postgresql.sql";
			case MARIADB, MYSQL -> "tenant-catalog-mariadb.sql";
			case null, default -> throw new IllegalArgumentException("no tenant catalog DDL for engine " + engine
					+ "; expected POSTGRESQL, MARIADB or MYSQL");
		};
		// PostgreSQL folds unquoted names to lower case; pg_notify's channel does not fold.
		String replacement = engine == Engine.POSTGRESQL ? name.toLowerCase(Locale.ROOT) : name;
		return script(resource).replace(SCRIPT_TABLE, replacement);
	}

	/**
	 * Return the table this source reads.
	 * @return the table's name, as given
	 */
	public String table() {
		return this.table;
	}

	/**
	 * Return the PostgreSQL channel {@link #changes()} listens on: the table's name in lower case.
	 * @return the channel
	 */
	public String channel() {
		return this.table.toLowerCase(Locale.ROOT);
	}

	/**
	 * Read every row of the table, from the catalog's primary or, when it cannot be reached, from a
	 * replica.
	 * @return the rows, as the table holds them; an error if no server of the catalog could be read,
	 * with the failures of the servers tried before as suppressed exceptions
	 */
	@Override
	public Mono<List<Entry>> load() {
		return Mono.defer(() -> {
			List<DataSource.Target> targets = readOrder();
			Mono<List<Entry>> read = read(targets.get(0));
			for (DataSource.Target next : targets.subList(1, targets.size())) {
				read = read.onErrorResume(TableTenantSource::isUnreachable, failure -> read(next)
						.onErrorMap(later -> {
							later.addSuppressed(failure);
							return later;
						}));
			}
			return read;
		});
	}

	/**
	 * On PostgreSQL, signal each notification of the table's {@linkplain #channel() channel}, and
	 * once when listening begins; elsewhere, nothing.
	 * @return the wake-ups (each the channel's name); the {@code Flux} fails when the listening
	 * connection breaks, and closes that connection when cancelled
	 */
	@Override
	public Flux<?> changes() {
		ConnectionFactory primary = this.catalog.primary().connectionFactory();
		if (Engine.fromProduct(primary.getMetadata().getName(), null) != Engine.POSTGRESQL) {
			return Flux.never();
		}
		return PostgresChanges.listen(dedicated(primary), channel(), this.catalog.primary().name());
	}

	/** The primary, then the replicas, those known to be down after the others. */
	private List<DataSource.Target> readOrder() {
		List<DataSource.Target> all = new ArrayList<>(this.catalog.replicas().size() + 1);
		all.add(this.catalog.primary());
		all.addAll(this.catalog.replicas());
		List<DataSource.Target> ordered = new ArrayList<>(all.size());
		all.stream().filter(target -> target.status().up()).forEach(ordered::add);
		all.stream().filter(target -> !target.status().up()).forEach(ordered::add);
		return ordered;
	}

	private Mono<List<Entry>> read(DataSource.Target target) {
		return Flux.usingWhen(target.connectionFactory().create(),
				connection -> Flux.from(connection.createStatement(this.query).execute())
						.concatMap(result -> result.map(TableTenantSource::entry)),
				Connection::close)
				.collectList()
				.doOnError(target::reportFailure);
	}

	private static Entry entry(Readable row) {
		return new Entry(row.get(0, String.class), row.get(1, String.class), row.get(2, String.class));
	}

	/** A failure after which another server of the catalog is worth trying. */
	private static boolean isUnreachable(Throwable failure) {
		return DataErrorClassifier.isTargetFailure(failure) || failure instanceof R2dbcTimeoutException;
	}

	/**
	 * The driver's factory behind a pool, for a connection that holds no pool slot and whose
	 * {@code LISTEN} never goes back to a pool; the factory itself if it wraps nothing.
	 */
	private static ConnectionFactory dedicated(ConnectionFactory factory) {
		if (factory instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof ConnectionFactory inner) {
			return inner;
		}
		return factory;
	}

	private static String requireTableName(String table) {
		if (table == null || !TABLE_NAME.matcher(table).matches() || table.length() > MAX_TABLE_NAME_LENGTH) {
			throw new IllegalArgumentException("table must be an unquoted SQL identifier ([A-Za-z_][A-Za-z0-9_]*), "
					+ "optionally schema-qualified, at most " + MAX_TABLE_NAME_LENGTH + " characters, was "
					+ (table == null ? "null" : "'" + table + "'"));
		}
		return table;
	}

	private static String script(String resource) {
		try (InputStream in = TableTenantSource.class.getResourceAsStream(resource)) {
			if (in == null) {
				throw new IllegalStateException("resource " + resource + " is missing next to "
						+ TableTenantSource.class.getName());
			}
			return new String(in.readAllBytes(), StandardCharsets.UTF_8);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("cannot read " + resource, ex);
		}
	}

	@Override
	public String toString() {
		return "TableTenantSource[" + this.catalog.name() + "/" + this.table + "]";
	}
}
