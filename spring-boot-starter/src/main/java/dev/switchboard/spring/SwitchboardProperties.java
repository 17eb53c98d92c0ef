package dev.switchboard.spring;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.ReadConsistency;
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
 *       primary: r2dbc:postgresql://app:${DB_PASSWORD}@db1:5432/orders
 *       replicas: [ "r2dbc:postgresql://app:${DB_PASSWORD}@db2:5432/orders" ]
 *       pool: { max-size: 20, max-acquire-time: 2s }
 *       consistency: causal          # or pin, the default
 *       max-replication-lag: 1s      # skip replicas further behind
 *   tenants:
 *     acme: { datasource: pg-main }
 *   web:
 *     tenant-from: jwt-claim       # or principal, subdomain, path, header (the default)
 *     tenant-claim: tenant
 *     causal-token-header: Switchboard-Causal-Token
 * </pre>
 *
 * @param defaultTenant the tenant for pipelines without a routing context; none by default
 * @param web the WebFlux filter's settings
 * @param datasources the datasources by name
 * @param tenants the tenants by id
 */
@ConfigurationProperties("switchboard")
public record SwitchboardProperties(@Nullable String defaultTenant, @DefaultValue Web web,
		@Nullable Map<String, DataSourceProperties> datasources, @Nullable Map<String, TenantProperties> tenants) {

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
			@Nullable SQLDialect dialect, @DefaultValue Pool pool, @DefaultValue("pin") ReadConsistency consistency,
			@Nullable Duration maxReplicationLag, @DefaultValue("100ms") Duration causalWait,
			@DefaultValue("1s") Duration probeInterval, @DefaultValue("true") boolean readsFallBackToPrimary) {
	}

	/**
	 * The settings of each pool of a datasource.
	 * @param maxSize the most connections a pool holds
	 * @param initialSize the connections a pool opens at start
	 * @param maxAcquireTime how long a statement waits for a connection before a TRANSIENT error
	 * @param maxIdleTime how long an idle connection stays open
	 * @param validationQuery a query that checks a connection before use; none by default
	 */
	public record Pool(@DefaultValue("10") int maxSize, @DefaultValue("0") int initialSize,
			@DefaultValue("5s") Duration maxAcquireTime, @DefaultValue("30m") Duration maxIdleTime,
			@Nullable String validationQuery) {
	}

	/**
	 * One tenant.
	 * @param datasource the name of its datasource
	 */
	public record TenantProperties(@Nullable String datasource) {
	}
}
