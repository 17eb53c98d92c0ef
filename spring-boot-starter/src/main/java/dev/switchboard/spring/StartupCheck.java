package dev.switchboard.spring;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeoutException;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import io.r2dbc.spi.R2dbcException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import io.r2dbc.spi.ValidationDepth;
import io.r2dbc.spi.Wrapped;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.SmartInitializingSingleton;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What Switchboard says and checks once the application's beans are built: one INFO line per
 * datasource (servers, pool sizes, consistency) and a summary; then, unless
 * {@code switchboard.startup.verify} is off, one connection to the primary of every datasource, all
 * at once, so that an unknown host, a refused connection, a rejected password or a missing database
 * stops the start naming the datasource and the cause, instead of a 500 on the first request. The
 * catalog datasource of {@code switchboard.directory.source=table} is left out: its first read has
 * said whether it can be reached, and the start goes on without it.
 */
final class StartupCheck implements SmartInitializingSingleton {

	private static final Log logger = LogFactory.getLog(StartupCheck.class);

	private final DataSourceRegistry registry;

	private final SwitchboardProperties properties;

	StartupCheck(DataSourceRegistry registry, SwitchboardProperties properties) {
		this.registry = registry;
		this.properties = properties;
	}

	@Override
	public void afterSingletonsInstantiated() {
		log();
		if (this.properties.startup().verify()) {
			verify();
		}
	}

	private void log() {
		Map<String, SwitchboardProperties.DataSourceProperties> configured = this.properties.datasources() != null
				? this.properties.datasources() : Map.of();
		for (DataSource dataSource : this.registry.dataSources()) {
			SwitchboardProperties.DataSourceProperties settings = configured.get(dataSource.name());
			StringBuilder line = new StringBuilder("Switchboard datasource '").append(dataSource.name()).append("': primary ");
			line.append(settings != null ? server(settings.primary()) : dataSource.primary().name());
			line.append(", ").append(dataSource.replicas().size()).append(" replica(s)");
			if (settings != null && settings.replicas() != null && !settings.replicas().isEmpty()) {
				line.append(' ').append(settings.replicas().stream().map(StartupCheck::server).toList());
			}
			if (settings != null) {
				SwitchboardProperties.Pool pool = settings.pool();
				line.append(", pools of ").append(pool.initialSize()).append('-').append(pool.maxSize())
						.append(" connections each (min-idle ").append(pool.minIdle()).append(')');
			}
			line.append(", consistency ").append(dataSource.consistency().name().toLowerCase(Locale.ROOT));
			if (settings != null && settings.maxReplicationLag() != null) {
				line.append(", max-replication-lag ").append(settings.maxReplicationLag());
			}
			logger.info(line);
		}
		int tenants = this.properties.tenants() != null ? this.properties.tenants().size() : 0;
		int routable = this.registry.tenants().size();
		logger.info("Switchboard: " + this.registry.dataSources().size() + " datasource(s), " + tenants
				+ " tenant(s) configured" + (routable != tenants ? ", " + routable + " routable" : "")
				+ (this.properties.defaultTenant() != null
						? ", default tenant '" + this.properties.defaultTenant() + "'" : "")
				+ ", startup verify " + (this.properties.startup().verify() ? "on" : "off"));
	}

	/** Host, port and database of an R2DBC URL, without its user info. */
	private static String server(String url) {
		try {
			ConnectionFactoryOptions options = ConnectionFactoryOptions.parse(url);
			Object host = options.getValue(ConnectionFactoryOptions.HOST);
			Object port = options.getValue(ConnectionFactoryOptions.PORT);
			Object database = options.getValue(ConnectionFactoryOptions.DATABASE);
			return options.getValue(ConnectionFactoryOptions.DRIVER) + "://" + (host != null ? host : "")
					+ (port != null ? ":" + port : "") + "/" + (database != null ? database : "");
		}
		catch (RuntimeException ex) {
			return "(unparsable URL)";
		}
	}

	private void verify() {
		Duration timeout = this.properties.startup().timeout();
		// The catalog's first read said already whether it can be reached; a catalog that cannot does
		// not stop the start (the directory keeps reading it), so it is not asked again here.
		String catalog = this.properties.directory().source() == SwitchboardProperties.DirectorySource.TABLE
				? this.properties.directory().table().datasource() : null;
		List<String> failures = Flux.fromIterable(this.registry.dataSources())
				.filter(dataSource -> !dataSource.name().equals(catalog))
				.flatMap(dataSource -> Mono.usingWhen(direct(dataSource.primary().connectionFactory()).create(),
								connection -> Mono.from(connection.validate(ValidationDepth.REMOTE)), Connection::close)
						.timeout(timeout)
						.flatMap(valid -> valid ? Mono.<String>empty()
								: Mono.just(dataSource.name() + ": the connection did not validate"))
						.onErrorResume(failure -> Mono.just(dataSource.name() + ": " + cause(failure, timeout))))
				.collectList()
				.block();
		if (failures != null && !failures.isEmpty()) {
			String first = failures.get(0);
			String key = SwitchboardKeys.PREFIX + ".datasources." + first.substring(0, first.indexOf(':')) + ".primary";
			throw new SwitchboardConfigurationException(key,
					"could not be reached at startup: " + String.join("; ", failures),
					"Check the host, port, database, username and password of each datasource named, and that its"
							+ " server is up; or set switchboard.startup.verify=false to start without connecting.",
					null);
		}
	}

	/**
	 * The driver's own factory under a pool: a connection of its own, whose failure comes as the
	 * driver reports it, rather than as the pool's acquire timeout, and which leaves the pool as
	 * configured (no connection opened in it, none counted in its meters).
	 */
	private static ConnectionFactory direct(ConnectionFactory factory) {
		return factory instanceof Wrapped<?> wrapped && wrapped.unwrap() instanceof ConnectionFactory driver ? driver : factory;
	}

	/**
	 * Say why a connection could not be had, in the words an operator looks for.
	 * @param failure what the driver or the pool signalled
	 * @param timeout the time allowed
	 * @return for example {@code unknown host 'db1'}
	 */
	static String cause(Throwable failure, Duration timeout) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof UnknownHostException) {
				return "unknown host (" + cause.getMessage() + ")";
			}
			if (cause instanceof ConnectException) {
				return "connection refused (" + cause.getMessage() + ")";
			}
			if (cause instanceof TimeoutException && cause == failure) {
				return "no connection within " + timeout;
			}
			if (cause instanceof R2dbcException r2dbc) {
				String state = r2dbc.getSqlState() != null ? r2dbc.getSqlState() : "";
				if (cause instanceof R2dbcPermissionDeniedException || state.startsWith("28") || r2dbc.getErrorCode() == 1045) {
					return "authentication failed (" + cause.getMessage() + ")";
				}
				if ("3D000".equals(state) || r2dbc.getErrorCode() == 1049) {
					return "database does not exist (" + cause.getMessage() + ")";
				}
			}
		}
		Throwable root = failure;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		return root == failure ? failure.getClass().getSimpleName() + " (" + failure.getMessage() + ")"
				: failure.getClass().getSimpleName() + " (" + failure.getMessage() + "), caused by "
						+ root.getClass().getName() + " (" + root.getMessage() + ")";
	}
}
