package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.TenantId;
import dev.switchboard.api.TenantTable;
import org.jspecify.annotations.Nullable;

/**
 * Builds a {@link TenantDirectory}: its datasources, the tenants it starts with (the static ones,
 * as {@link TenantRegistry.Builder} takes them), and the {@link TenantSource} it keeps in step
 * with. Not thread-safe.
 */
public final class TenantDirectoryBuilder {

	/** How often a directory reads its source when nothing else is said. */
	public static final Duration DEFAULT_REFRESH_INTERVAL = Duration.ofSeconds(30);

	private final Map<String, DataSource> dataSources = new LinkedHashMap<>();

	private final Map<TenantId, String> tenants = new LinkedHashMap<>();

	private @Nullable TenantId defaultTenant;

	private DirectoryListener listener = DirectoryListener.NONE;

	private @Nullable TenantSource source;

	private Duration refreshInterval = DEFAULT_REFRESH_INTERVAL;

	TenantDirectoryBuilder() {
	}

	/**
	 * Register a datasource under its {@link DataSource#name()}.
	 * @param dataSource the datasource
	 * @return this builder
	 * @throws IllegalArgumentException if another datasource has the same name
	 */
	public TenantDirectoryBuilder dataSource(DataSource dataSource) {
		if (dataSource == null) {
			throw new IllegalArgumentException("dataSource must not be null");
		}
		DataSource previous = this.dataSources.putIfAbsent(dataSource.name(), dataSource);
		if (previous != null && previous != dataSource) {
			throw new IllegalArgumentException("datasource name '" + dataSource.name() + "' is registered twice");
		}
		return this;
	}

	/**
	 * Start with {@code tenant} on the datasource named {@code dataSource}.
	 * @param tenant the tenant id
	 * @param dataSource the name of a datasource registered before {@link #build()}
	 * @return this builder
	 * @throws DataError of kind {@link DataError.Kind#INVALID_TENANT_ID} if the id is malformed
	 * @throws IllegalArgumentException if the tenant is already mapped
	 */
	public TenantDirectoryBuilder tenant(String tenant, String dataSource) {
		TenantId id = TenantId.of(tenant);
		if (dataSource == null || dataSource.isBlank()) {
			throw new IllegalArgumentException("datasource of tenant '" + tenant + "' must not be blank");
		}
		String previous = this.tenants.putIfAbsent(id, dataSource);
		if (previous != null) {
			throw new IllegalArgumentException("tenant '" + tenant + "' is mapped twice, to '" + previous
					+ "' and to '" + dataSource + "'");
		}
		return this;
	}

	/**
	 * Use {@code tenant} for pipelines without a routing context. Off by default: such pipelines
	 * fail with {@link DataError.Kind#MISSING_CONTEXT}.
	 * @param tenant a tenant mapped with {@link #tenant(String, String)}
	 * @return this builder
	 */
	public TenantDirectoryBuilder defaultTenant(String tenant) {
		this.defaultTenant = TenantId.of(tenant);
		return this;
	}

	/**
	 * Tell {@code listener} of every change and failed refresh.
	 * @param listener the listener
	 * @return this builder
	 */
	public TenantDirectoryBuilder listener(DirectoryListener listener) {
		this.listener = (listener != null) ? listener : DirectoryListener.NONE;
		return this;
	}

	/**
	 * Keep in step with {@code source} once {@linkplain TenantDirectory#start() started}.
	 * @param source where tenants come from
	 * @param refreshInterval how often to read it again, besides its change signals
	 * @return this builder
	 * @throws IllegalArgumentException if the interval is not positive
	 */
	public TenantDirectoryBuilder source(TenantSource source, Duration refreshInterval) {
		if (refreshInterval == null || refreshInterval.isNegative() || refreshInterval.isZero()) {
			throw new IllegalArgumentException("the refresh interval of a tenant source must be positive, was "
					+ refreshInterval);
		}
		if (source == null) {
			throw new IllegalArgumentException("source must not be null");
		}
		this.source = source;
		this.refreshInterval = refreshInterval;
		return this;
	}

	/**
	 * Build the directory.
	 * @return the directory, not started
	 * @throws IllegalStateException if a tenant names an unregistered datasource, or the default
	 * tenant is not mapped
	 */
	public TenantDirectory build() {
		return build(null);
	}

	TenantDirectory build(@Nullable DataSourceRegistry over) {
		Map<TenantId, Tenancy> tenancies = new LinkedHashMap<>();
		List<String> problems = new ArrayList<>();
		this.tenants.forEach((tenant, name) -> {
			DataSource dataSource = this.dataSources.get(name);
			if (dataSource == null) {
				problems.add("tenant '" + tenant + "' names datasource '" + name + "', which is not registered "
						+ "(registered: " + this.dataSources.keySet() + ")");
			}
			else {
				tenancies.put(tenant, Tenancy.of(tenant, Placement.on(name), dataSource, Tenancy.Origin.STATIC));
			}
		});
		if (this.defaultTenant != null && !this.tenants.containsKey(this.defaultTenant)) {
			problems.add("default tenant '" + this.defaultTenant + "' is not a mapped tenant");
		}
		if (!problems.isEmpty()) {
			throw new IllegalStateException(String.join("; ", problems));
		}
		return new TenantDirectory(new DirectorySnapshot(TenantTable.copyOf(tenancies), new LinkedHashMap<>(this.dataSources)),
				this.defaultTenant, this.listener, this.source, this.refreshInterval, over);
	}
}
