package dev.switchboard.spring;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.switchboard.api.DataSource;
import dev.switchboard.r2dbc.DirectoryEntry;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TargetPool;
import io.r2dbc.pool.PoolMetrics;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;

/**
 * The Actuator endpoint {@code switchboard} ({@code /actuator/switchboard} once exposed, with
 * {@code management.endpoints.web.exposure.include=switchboard}): every tenant the directory knows,
 * with its placement, its state and the connections it holds, and every datasource with the gauges
 * of its pools. Read-only: onboarding is the application's, through the {@code TenantDirectory}
 * bean. Each read is of the directory and the pools as they are at that moment. Thread-safe.
 */
@Endpoint(id = "switchboard")
public final class SwitchboardEndpoint {

	private final RoutingConnectionFactory routing;

	/**
	 * Create the endpoint.
	 * @param routing the routing factory, whose directory and pools are reported
	 */
	public SwitchboardEndpoint(RoutingConnectionFactory routing) {
		this.routing = routing;
	}

	/**
	 * Report the tenants and datasources.
	 * @return the report
	 */
	@ReadOperation
	public Report report() {
		List<TenantReport> tenants = new ArrayList<>();
		for (DirectoryEntry entry : this.routing.directory().entries()) {
			tenants.add(new TenantReport(entry.tenant().value(),
					entry.placement() != null ? entry.placement().dataSource() : null, entry.state().name(),
					entry.connections()));
		}
		Map<String, List<PoolReport>> pools = new LinkedHashMap<>();
		for (DataSource dataSource : this.routing.directory().dataSources()) {
			pools.put(dataSource.name(), new ArrayList<>());
		}
		for (TargetPool pool : this.routing.pools()) {
			PoolMetrics metrics = pool.metrics();
			pools.computeIfAbsent(pool.dataSource(), name -> new ArrayList<>()).add(new PoolReport(pool.name(),
					pool.role().tag(), metrics.acquiredSize(), metrics.idleSize(), metrics.allocatedSize(),
					metrics.pendingAcquireSize(), metrics.getMaxAllocatedSize()));
		}
		List<DataSourceReport> dataSources = new ArrayList<>();
		pools.forEach((name, its) -> dataSources.add(new DataSourceReport(name, its)));
		return new Report(tenants, dataSources);
	}

	/**
	 * What the endpoint answers.
	 * @param tenants every tenant, offboarded and draining ones included, ordered by id
	 * @param datasources every datasource, in registration order
	 */
	public record Report(List<TenantReport> tenants, List<DataSourceReport> datasources) {
	}

	/**
	 * One tenant on one placement; a tenant that left a placement whose work is still running there
	 * is listed again for it, {@code DRAINING}.
	 * @param id the tenant id
	 * @param placement the datasource it lives on (or lived on, while draining); {@code null} once
	 * offboarded
	 * @param state {@code ACTIVE}, {@code DRAINING} or {@code OFFBOARDED}
	 * @param connections the connections it holds there now
	 */
	public record TenantReport(String id, @Nullable String placement, String state, long connections) {
	}

	/**
	 * One datasource.
	 * @param name its name
	 * @param pools the pool of each of its servers, the primary first
	 */
	public record DataSourceReport(String name, List<PoolReport> pools) {
	}

	/**
	 * The pool of one server.
	 * @param name {@code <datasource>/primary} or {@code <datasource>/replica-<i>}
	 * @param role {@code primary} or {@code replica}
	 * @param acquired connections in use
	 * @param idle connections open and free
	 * @param allocated connections open
	 * @param pending requests waiting for a connection
	 * @param max the most connections it may open
	 */
	public record PoolReport(String name, String role, int acquired, int idle, int allocated, int pending, int max) {
	}
}
