package dev.switchboard.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.r2dbc.InvalidSettingException;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.TenantRegistry;
import org.jooq.SQLDialect;
import org.jspecify.annotations.Nullable;

/**
 * Turns {@link SwitchboardProperties} into a {@link TenantRegistry}, checking every setting and
 * naming the key of the first one that cannot work.
 */
final class RegistryFactory {

	private static final String PREFIX = "switchboard.";

	private RegistryFactory() {
	}

	static TenantRegistry build(SwitchboardProperties properties) {
		return build(properties, null);
	}

	/**
	 * Build the registry.
	 * @param properties the configuration
	 * @param credentials the application's rotating passwords, or {@code null}
	 * @return the registry
	 * @throws SwitchboardConfigurationException naming the key of the first setting that cannot work
	 */
	static TenantRegistry build(SwitchboardProperties properties, @Nullable SwitchboardCredentials credentials) {
		Map<String, SwitchboardProperties.DataSourceProperties> dataSources = orEmpty(properties.datasources());
		Map<String, SwitchboardProperties.TenantProperties> tenants = orEmpty(properties.tenants());
		if (dataSources.isEmpty()) {
			throw new SwitchboardConfigurationException(PREFIX + "datasources", "must name at least one datasource");
		}
		if (tenants.isEmpty()) {
			throw new SwitchboardConfigurationException(PREFIX + "tenants", "must name at least one tenant");
		}
		TenantRegistry.Builder registry = TenantRegistry.builder();
		List<ReplicatedDataSource> built = new ArrayList<>();
		try {
			for (Map.Entry<String, SwitchboardProperties.DataSourceProperties> entry : dataSources.entrySet()) {
				ReplicatedDataSource dataSource = dataSource(entry.getKey(), entry.getValue(), credentials);
				built.add(dataSource);
				registry.dataSource(dataSource);
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
				registry.tenant(entry.getKey(), dataSource);
			}
			String defaultTenant = properties.defaultTenant();
			if (defaultTenant != null && !defaultTenant.isBlank()) {
				if (!tenants.containsKey(defaultTenant)) {
					throw new SwitchboardConfigurationException(PREFIX + "default-tenant",
							"names tenant '" + defaultTenant + "', which is not configured");
				}
				registry.defaultTenant(defaultTenant);
			}
			return registry.build();
		}
		catch (RuntimeException ex) {
			// Pools already built for earlier datasources must not outlive the failed start.
			built.forEach(dataSource -> dataSource.disposeLater().subscribe(null, failure -> ex.addSuppressed(failure)));
			throw ex;
		}
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
	static void dialects(SwitchboardProperties properties, TenantRegistry registry, RoutedDsl.Builder builder) {
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
