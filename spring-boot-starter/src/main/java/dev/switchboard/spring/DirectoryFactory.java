package dev.switchboard.spring;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.r2dbc.DirectoryListener;
import dev.switchboard.r2dbc.InvalidSettingException;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.TableTenantSource;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.r2dbc.TenantDirectoryBuilder;
import dev.switchboard.r2dbc.TenantSource;
import io.r2dbc.spi.ConnectionFactory;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jooq.SQLDialect;
import org.jspecify.annotations.Nullable;
import reactor.core.Exceptions;

/**
 * Turns {@link SwitchboardProperties} into a {@link TenantDirectory}: its datasources, the tenants
 * it starts with and, with {@code switchboard.directory.source=table}, the catalog table it keeps
 * in step with; checking every setting and naming the key of the first one that cannot work.
 */
final class DirectoryFactory {

	private static final Log logger = LogFactory.getLog(DirectoryFactory.class);

	private static final String PREFIX = "switchboard.";

	private static final String TABLE = PREFIX + "directory.table.";

	private DirectoryFactory() {
	}

	static TenantDirectory build(SwitchboardProperties properties) {
		return build(properties, DirectoryListener.NONE, null);
	}

	/**
	 * Build the directory, not started.
	 * @param properties the configuration
	 * @param listener told of every change the directory makes
	 * @param credentials the application's rotating passwords, or {@code null}
	 * @return the directory
	 * @throws SwitchboardConfigurationException naming the key of the first setting that cannot work
	 */
	static TenantDirectory build(SwitchboardProperties properties, DirectoryListener listener,
			@Nullable SwitchboardCredentials credentials) {
		Map<String, SwitchboardProperties.DataSourceProperties> dataSources = orEmpty(properties.datasources());
		Map<String, SwitchboardProperties.TenantProperties> tenants = orEmpty(properties.tenants());
		if (dataSources.isEmpty()) {
			throw new SwitchboardConfigurationException(PREFIX + "datasources", "must name at least one datasource");
		}
		String catalog = catalog(properties.directory(), dataSources);
		// Tenants may all come from the catalog; without one, a directory without tenants is a mistake.
		if (tenants.isEmpty() && catalog == null) {
			throw new SwitchboardConfigurationException(PREFIX + "tenants", "must name at least one tenant",
					"Name a tenant under 'switchboard.tenants', or read them from a catalog table with "
							+ "'switchboard.directory.source=table'.", null);
		}
		TenantDirectoryBuilder directory = TenantDirectory.builder().listener(listener);
		List<ReplicatedDataSource> built = new ArrayList<>();
		try {
			for (Map.Entry<String, SwitchboardProperties.DataSourceProperties> entry : dataSources.entrySet()) {
				ReplicatedDataSource dataSource = dataSource(entry.getKey(), entry.getValue(), credentials);
				built.add(dataSource);
				directory.dataSource(dataSource);
				if (entry.getKey().equals(catalog)) {
					SwitchboardProperties.Table table = properties.directory().table();
					directory.source(tableSource(dataSource, table.name()), table.refreshInterval());
				}
			}
			for (Map.Entry<String, SwitchboardProperties.TenantProperties> entry : tenants.entrySet()) {
				String key = PREFIX + "tenants." + entry.getKey();
				if (!TenantId.isValid(entry.getKey())) {
					invalidTenant(key, entry.getKey());
				}
				String dataSource = entry.getValue() != null ? entry.getValue().datasource() : null;
				if (dataSource == null || dataSource.isBlank()) {
					throw new SwitchboardConfigurationException(key + ".datasource", "must be set");
				}
				if (!dataSources.containsKey(dataSource)) {
					throw new SwitchboardConfigurationException(key + ".datasource", "names datasource '" + dataSource
							+ "', which is not configured (configured: " + dataSources.keySet() + ")");
				}
				directory.tenant(entry.getKey(), dataSource);
			}
			String defaultTenant = properties.defaultTenant();
			if (defaultTenant != null && !defaultTenant.isBlank()) {
				if (!tenants.containsKey(defaultTenant)) {
					throw new SwitchboardConfigurationException(PREFIX + "default-tenant",
							"names tenant '" + defaultTenant + "', which is not configured");
				}
				directory.defaultTenant(defaultTenant);
			}
			return directory.build();
		}
		catch (RuntimeException ex) {
			// Pools already built for earlier datasources must not outlive the failed start.
			built.forEach(dataSource -> dataSource.disposeLater().subscribe(null, failure -> ex.addSuppressed(failure)));
			throw ex;
		}
	}

	/**
	 * The name of the catalog datasource, checked, or {@code null} when tenants come from the
	 * configuration alone.
	 */
	private static @Nullable String catalog(SwitchboardProperties.Directory directory,
			Map<String, SwitchboardProperties.DataSourceProperties> dataSources) {
		if (directory.source() != SwitchboardProperties.DirectorySource.TABLE) {
			return null;
		}
		SwitchboardProperties.Table table = directory.table();
		String name = table.datasource();
		if (name == null || name.isBlank()) {
			throw new SwitchboardConfigurationException(TABLE + "datasource", "must name the catalog datasource, "
					+ "one of " + dataSources.keySet() + ", when switchboard.directory.source is table");
		}
		if (!dataSources.containsKey(name)) {
			throw new SwitchboardConfigurationException(TABLE + "datasource", "names datasource '" + name
					+ "', which is not configured (configured: " + dataSources.keySet() + ")");
		}
		if (table.name() == null || table.name().isBlank()) {
			throw new SwitchboardConfigurationException(TABLE + "name", "must name the catalog table");
		}
		Duration interval = table.refreshInterval();
		if (interval == null || interval.isNegative() || interval.isZero()) {
			throw new SwitchboardConfigurationException(TABLE + "refresh-interval", "must be positive, was " + interval);
		}
		return name;
	}

	private static TenantSource tableSource(DataSource catalog, String table) {
		try {
			return TableTenantSource.of(catalog, table);
		}
		catch (IllegalArgumentException ex) {
			throw new SwitchboardConfigurationException(TABLE + "name", "is not usable: " + ex.getMessage(), ex);
		}
	}

	/**
	 * Start the directory's catalog, if it has one, and wait for its first load, at most
	 * {@code switchboard.startup.timeout}. A catalog that cannot be read does not stop the start:
	 * the application serves the configured tenants, and the directory keeps reading it.
	 */
	static void start(TenantDirectory directory, SwitchboardProperties properties) {
		SwitchboardProperties.Directory settings = properties.directory();
		if (settings.source() != SwitchboardProperties.DirectorySource.TABLE) {
			return;
		}
		SwitchboardProperties.Table table = settings.table();
		Duration timeout = properties.startup().timeout();
		try {
			directory.start().timeout(timeout).block();
			logger.info("Switchboard: read the tenant catalog '" + table.name() + "' on datasource '"
					+ table.datasource() + "': " + directory.tenants().size() + " tenant(s) routable; read again every "
					+ readable(table.refreshInterval()));
		}
		catch (RuntimeException ex) {
			Throwable cause = Exceptions.unwrap(ex);
			logger.warn("Switchboard: the tenant catalog '" + table.name() + "' on datasource '" + table.datasource()
					+ "' could not be read at startup (" + StartupCheck.cause(cause, timeout) + "); starting with the "
					+ directory.tenants().size() + " configured tenant(s), and reading it again every "
					+ readable(table.refreshInterval()));
		}
	}

	/** {@code 30s}, {@code 1h}, {@code 0.5s}: as the setting is written. */
	private static String readable(Duration duration) {
		return duration.toString().substring(2).toLowerCase(Locale.ROOT);
	}

	private static void invalidTenant(String key, String tenant) {
		try {
			TenantId.of(tenant);
		}
		catch (DataError ex) {
			throw new SwitchboardConfigurationException(key, "is not a valid tenant id: " + ex.getMessage(), ex);
		}
	}

	private static ReplicatedDataSource dataSource(String name, SwitchboardProperties.DataSourceProperties properties,
			@Nullable SwitchboardCredentials credentials) {
		String key = PREFIX + "datasources." + name;
		if (properties == null || properties.primary() == null || properties.primary().isBlank()) {
			throw new SwitchboardConfigurationException(key + ".primary", "must be set to an R2DBC URL");
		}
		var pool = PoolSettings.customizer(key, properties.pool());
		ReplicatedDataSource.Builder builder;
		try {
			builder = ReplicatedDataSource.builder(name);
		}
		catch (IllegalArgumentException ex) {
			throw new SwitchboardConfigurationException(key, "has an invalid name: " + ex.getMessage(), ex);
		}
		try {
			builder.primary(properties.primary());
		}
		catch (IllegalArgumentException ex) {
			throw new SwitchboardConfigurationException(key + ".primary", "is not usable: " + ex.getMessage(), ex);
		}
		List<String> replicas = properties.replicas() != null ? properties.replicas() : List.of();
		for (int i = 0; i < replicas.size(); i++) {
			try {
				builder.replica(replicas.get(i));
			}
			catch (IllegalArgumentException ex) {
				throw new SwitchboardConfigurationException(key + ".replicas[" + i + "]", "is not usable: " + ex.getMessage(), ex);
			}
		}
		try {
			builder.consistency(properties.consistency());
		}
		catch (IllegalArgumentException ex) {
			throw new SwitchboardConfigurationException(key + ".consistency", "must be pin or causal", ex);
		}
		setting(key + ".max-replication-lag", () -> builder.maxReplicationLag(properties.maxReplicationLag()));
		setting(key + ".causal-wait", () -> builder.causalWait(properties.causalWait()));
		setting(key + ".probe-interval", () -> builder.probeInterval(properties.probeInterval()));
		builder.readsFallBackToPrimary(properties.readsFallBackToPrimary());
		builder.pool(pool);
		credentials(key, name, properties, credentials, builder);
		try {
			return builder.build();
		}
		catch (InvalidSettingException ex) {
			throw new SwitchboardConfigurationException(key + "." + configurationKey(ex.setting()), ex.problem(), ex);
		}
	}

	/**
	 * Set the datasource's user and password apart from its URLs: the password from the
	 * configuration, or asked of the application's {@link SwitchboardCredentials} for each new
	 * connection, never both.
	 */
	private static void credentials(String key, String name, SwitchboardProperties.DataSourceProperties properties,
			@Nullable SwitchboardCredentials credentials, ReplicatedDataSource.Builder builder) {
		String username = properties.username();
		if (username != null) {
			setting(key + ".username", () -> builder.username(username));
		}
		String password = properties.password();
		if (credentials != null && credentials.suppliesPassword(name)) {
			if (password != null) {
				throw new SwitchboardConfigurationException(key + ".password", "is set, and the SwitchboardCredentials "
						+ "bean supplies this datasource's password too: remove one of them");
			}
			builder.password(() -> credentials.password(name));
		}
		else if (password != null) {
			builder.password(password);
		}
	}

	/** The configuration key of a setting named by {@link InvalidSettingException#setting()}. */
	private static String configurationKey(String setting) {
		return setting.equals("username/password") ? "password" : setting;
	}

	/** Apply a setting to the builder; one it refuses is reported under its configuration key. */
	private static void setting(String key, Runnable apply) {
		try {
			apply.run();
		}
		catch (InvalidSettingException ex) {
			throw new SwitchboardConfigurationException(key, ex.problem(), ex);
		}
	}

	/** The dialect of each datasource: as configured, else from what its primary reports. */
	static void dialects(SwitchboardProperties properties, DataSourceRegistry registry, RoutedDsl.Builder builder) {
		Map<String, SwitchboardProperties.DataSourceProperties> dataSources = orEmpty(properties.datasources());
		for (DataSource dataSource : registry.dataSources()) {
			SwitchboardProperties.DataSourceProperties configured = dataSources.get(dataSource.name());
			SQLDialect dialect = configured != null ? configured.dialect() : null;
			builder.dialect(dataSource.name(), dialect != null ? dialect : detect(dataSource));
		}
	}

	private static SQLDialect detect(DataSource dataSource) {
		try {
			return RoutedDsl.Builder.detectDialect(dataSource);
		}
		catch (IllegalStateException ex) {
			throw new SwitchboardConfigurationException(PREFIX + "datasources." + dataSource.name() + ".dialect",
					"must be set: " + ex.getMessage(), ex);
		}
	}

	private static <V> Map<String, V> orEmpty(Map<String, V> map) {
		return map != null ? map : Map.of();
	}
}
