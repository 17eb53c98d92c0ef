package dev.switchboard.spring;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.ReadConsistency;
import io.r2dbc.spi.ValidationDepth;
import org.jooq.SQLDialect;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The {@code switchboard.*} configuration.
 *
 * <pre class="code">
 * switchboard:
 *   datasources:
 *     pg-main:
 *       primary: r2dbc:postgresql://db1:5432/orders
 *       replicas: [ "r2dbc:postgresql://db2:5432/orders" ]
 *       username: app              # or inside the URLs
 *       password: ${DB_PASSWORD}
 *       pool: { max-size: 20, max-acquire-time: 2s }
 *       consistency: causal          # or pin, the default
 *       max-replication-lag: 1s      # skip replicas further behind
 *   tenants:
 *     acme: { datasource: pg-main }
 *   directory:
 *     source: table                # or static, the default: only the tenants above
 *     table: { datasource: pg-main, name: switchboard_tenants, refresh-interval: 30s }
 *   web:
 *     tenant-from: jwt-claim       # or principal, subdomain, path, header (the default)
 *     tenant-claim: tenant
 *     causal-token-header: Switchboard-Causal-Token
 * </pre>
 *
 * <p>A key under {@code switchboard.} that none of these records declares stops the start, naming
 * the key and the closest valid one.
 *
 * @param defaultTenant the tenant for pipelines without a routing context; none by default
 * @param web the WebFlux filter's settings
 * @param startup what is checked and logged when the application starts
 * @param datasources the datasources by name
 * @param tenants the tenants by id, which the directory starts with
 * @param directory where tenants come from besides {@code tenants}, while the application runs
 */
@ConfigurationProperties(prefix = "switchboard", ignoreUnknownFields = false)
public record SwitchboardProperties(@Nullable String defaultTenant, @DefaultValue Web web, @DefaultValue Startup startup,
		@Nullable Map<String, DataSourceProperties> datasources, @Nullable Map<String, TenantProperties> tenants,
		@DefaultValue Directory directory) {

	/**
	 * The tenant directory: the tenants of {@code switchboard.tenants}, those onboarded through the
	 * {@code TenantDirectory} bean, and those of a catalog table.
	 * @param source where tenants come from while the application runs: {@code static} (the
	 * default: {@code switchboard.tenants} and the directory's operations) or {@code table} (also
	 * the rows of {@code table.name} in the catalog datasource {@code table.datasource}, read at
	 * start and every {@code table.refresh-interval})
	 * @param table the catalog table, for {@code table}
	 */
	public record Directory(@DefaultValue("static") DirectorySource source, @DefaultValue Table table) {
	}

	/** Where tenants come from while the application runs ({@code switchboard.directory.source}). */
	public enum DirectorySource {

		/** {@code switchboard.tenants} and the directory's operations. */
		STATIC,

		/** Also the rows of a catalog table ({@code switchboard.directory.table.*}). */
		TABLE
	}

	/**
	 * The catalog table of tenants, with one row per tenant: {@code tenant_id}, {@code datasource}
	 * and {@code state} ({@code active} or {@code offboarded}); see {@code TableTenantSource}.
	 * @param datasource the catalog datasource, one of {@code switchboard.datasources}
	 * @param name the table's name, optionally qualified by its schema
	 * @param refreshInterval how often the table is read again; on PostgreSQL, a table with the
	 * trigger of {@code TableTenantSource.ddl} also signals each change at once
	 */
	public record Table(@Nullable String datasource, @DefaultValue("switchboard_tenants") String name,
			@DefaultValue("30s") Duration refreshInterval) {
	}

	/**
	 * What the starter does when the application starts.
	 * @param verify whether to connect once to the primary of every datasource, and stop the start
	 * naming the datasource and the cause (unknown host, refused, authentication, missing database)
	 * when one cannot be reached
	 * @param timeout how long each of those connections may take
	 */
	public record Startup(@DefaultValue("true") boolean verify, @DefaultValue("10s") Duration timeout) {
	}

	/**
	 * The WebFlux tenant filter.
	 * @param enabled whether the filter is installed
	 * @param tenantFrom where the tenant of a request comes from: {@code jwt-claim} (a claim of the
	 * caller's OAuth 2 token), {@code principal} (the authenticated principal's name), {@code subdomain}
	 * (the label in front of {@code tenant-domain}), {@code path} (the {@code {tenant}} variable of
	 * {@code tenant-path}) or {@code header} (the default: {@code tenant-header}, for services behind
	 * a gateway that sets it)
	 * @param tenantHeader the request header that names the tenant, for {@code header}
	 * @param trustTenantHeader that a gateway sets the tenant header, so the start does not warn that
	 * any client can name any tenant with it
	 * @param tenantClaim the token claim that names the caller's tenant, for {@code jwt-claim} and the
	 * access check
	 * @param tenantsClaim the token claim that lists the tenants the caller may use (an array, or ids
	 * separated by spaces or commas), for the access check
	 * @param tenantDomain the domain under which each tenant has its subdomain, for {@code subdomain}
	 * @param tenantPath the path pattern whose {@code {tenant}} variable names the tenant, for
	 * {@code path}
	 * @param checkTenantAccess whether an authenticated caller must be allowed the tenant the request
	 * names (by its token's claims or a {@code TenantAccess} bean), else 403 and nothing runs
	 * @param excludedPaths path patterns served without a tenant
	 * @param causalTokenHeader the request and response header that carries the causal token, so
	 * that read-your-writes holds across requests and instances; blank to carry none
	 */
	public record Web(@DefaultValue("true") boolean enabled, @DefaultValue("header") TenantFrom tenantFrom,
			@DefaultValue("X-Tenant-Id") String tenantHeader, @DefaultValue("false") boolean trustTenantHeader,
			@DefaultValue("tenant") String tenantClaim, @DefaultValue("tenants") String tenantsClaim,
			@Nullable String tenantDomain, @DefaultValue("/tenants/{tenant}/**") String tenantPath,
			@DefaultValue("true") boolean checkTenantAccess, @DefaultValue("/actuator/**") List<String> excludedPaths,
			@DefaultValue("Switchboard-Causal-Token") String causalTokenHeader) {
	}

	/** Where the tenant of a web request comes from ({@code switchboard.web.tenant-from}). */
	public enum TenantFrom {

		/** A claim of the caller's OAuth 2 token ({@code tenant-claim}). */
		JWT_CLAIM,

		/** The authenticated principal's name. */
		PRINCIPAL,

		/** The label in front of {@code tenant-domain}. */
		SUBDOMAIN,

		/** The {@code {tenant}} variable of {@code tenant-path}. */
		PATH,

		/** A request header ({@code tenant-header}). */
		HEADER
	}

	/**
	 * One datasource: a primary and its replicas.
	 * @param primary the R2DBC URL of the primary
	 * @param replicas the R2DBC URLs of the replicas
	 * @param username the user of every server of the datasource, in place of the one in the URLs
	 * @param password the password of every server of the datasource, in place of the one in the
	 * URLs; any character is fine here (a password inside a URL must be percent-encoded). For a
	 * password that rotates, declare a {@link SwitchboardCredentials} bean instead: it is asked for
	 * each new connection. Never shown by {@code toString()} or in messages
	 * @param dialect the SQL dialect; taken from the URL's driver when not set
	 * @param pool the settings of each of its pools
	 * @param consistency how reads after a write are served: {@code pin} (to the primary, the
	 * default) or {@code causal} (to a replica that has replayed the write)
	 * @param maxReplicationLag replicas further behind are skipped; none by default
	 * @param causalWait how long a causal read waits for a replica before it goes to the primary
	 * @param probeInterval how often replicas are measured and failed servers tried again
	 * @param readsFallBackToPrimary whether reads go to the primary when no replica is available
	 */
	public record DataSourceProperties(@Nullable String primary, @Nullable List<String> replicas,
			@Nullable String username, @Nullable String password,
			@Nullable SQLDialect dialect, @DefaultValue Pool pool, @DefaultValue("pin") ReadConsistency consistency,
			@Nullable Duration maxReplicationLag, @DefaultValue("100ms") Duration causalWait,
			@DefaultValue("1s") Duration probeInterval, @DefaultValue("true") boolean readsFallBackToPrimary) {

		/** Like the record's own, with the password hidden: properties end up in logs and failure reports. */
		@Override
		public String toString() {
			return "DataSourceProperties[primary=" + this.primary + ", replicas=" + this.replicas + ", username="
					+ this.username + ", password=" + (this.password != null ? "****" : null) + ", dialect="
					+ this.dialect + ", pool=" + this.pool + ", consistency=" + this.consistency
					+ ", maxReplicationLag=" + this.maxReplicationLag + ", causalWait=" + this.causalWait
					+ ", probeInterval=" + this.probeInterval + ", readsFallBackToPrimary="
					+ this.readsFallBackToPrimary + "]";
		}
	}

	/**
	 * The settings of each pool of a datasource, as Boot's {@code spring.r2dbc.pool.*} has them.
	 * @param maxSize the most connections a pool holds
	 * @param initialSize the connections a pool opens at start
	 * @param minIdle the idle connections a pool keeps open
	 * @param maxAcquireTime how long a statement waits for a connection before a TRANSIENT error
	 * @param maxCreateConnectionTime how long opening a connection may take
	 * @param maxIdleTime how long an idle connection stays open
	 * @param maxLifeTime how long a connection lives at most; without limit by default
	 * @param maxValidationTime how long validating a connection may take; without limit by default
	 * @param validationQuery a query that checks a connection before use; none by default
	 * @param validationDepth how a connection is checked before use when no validation query is
	 * set: {@code local} (the driver's own state) or {@code remote} (a round trip)
	 * @param acquireRetry how many times acquiring a connection is retried
	 * @param backgroundEvictionInterval how often idle and expired connections are evicted in the
	 * background; only when a connection is acquired or released by default
	 */
	public record Pool(@DefaultValue("10") int maxSize, @DefaultValue("0") int initialSize,
			@DefaultValue("0") int minIdle, @DefaultValue("5s") Duration maxAcquireTime,
			@DefaultValue("5s") Duration maxCreateConnectionTime, @DefaultValue("30m") Duration maxIdleTime,
			@Nullable Duration maxLifeTime, @Nullable Duration maxValidationTime, @Nullable String validationQuery,
			@DefaultValue("local") ValidationDepth validationDepth, @DefaultValue("1") int acquireRetry,
			@Nullable Duration backgroundEvictionInterval) {
	}

	/**
	 * One tenant.
	 * @param datasource the name of its datasource
	 */
	public record TenantProperties(@Nullable String datasource) {
	}
}
