package dev.switchboard.spring;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.r2dbc.InvalidSettingException;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.TenantRegistry;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.SQLDialect;

/**
 * Turns {@link SwitchboardProperties} into a {@link TenantRegistry}, checking every setting and
 * naming the key of the first one that cannot work.
 */
final class RegistryFactory {

	private static final String PREFIX = "switchboard.";

	private RegistryFactory() {
	}

	static TenantRegistry build(SwitchboardProperties properties) {
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
				ReplicatedDataSource dataSource = dataSource(entry.getKey(), entry.getValue());
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

	private static ReplicatedDataSource dataSource(String name, SwitchboardProperties.DataSourceProperties properties) {
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
			server(properties.primary(), properties, builder::primary, builder::primary);
		}
		catch (IllegalArgumentException ex) {
			throw new SwitchboardConfigurationException(key + ".primary", "is not usable: " + ex.getMessage(), ex);
		}
		List<String> replicas = properties.replicas() != null ? properties.replicas() : List.of();
		for (int i = 0; i < replicas.size(); i++) {
			try {
				server(replicas.get(i), properties, builder::replica, builder::replica);
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
		return builder.build();
	}

	/** Give the builder a server, with the datasource's credentials. */
	private static void server(String url, SwitchboardProperties.DataSourceProperties properties,
			Consumer<String> byUrl, Consumer<ConnectionFactory> byFactory) {
		if (Credentials.hostless(url, properties.username(), properties.password())) {
			byFactory.accept(Credentials.connectionFactory(url, properties.username(), properties.password()));
		}
		else {
			byUrl.accept(Credentials.apply(url, properties.username(), properties.password()));
		}
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
