package dev.switchboard.spring;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.stream.Stream;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.health.contributor.CompositeReactiveHealthContributor;
import org.springframework.boot.health.contributor.ReactiveHealthContributor;

/**
 * The health of every server, as {@code <datasource>-primary} and {@code <datasource>-replica-<i>},
 * read from the registry's datasources as they are when health is asked for: a datasource added to
 * the tenant directory at runtime shows up, one removed is gone. Thread-safe.
 */
final class ServerHealthContributors implements CompositeReactiveHealthContributor {

	private final DataSourceRegistry registry;

	ServerHealthContributors(DataSourceRegistry registry) {
		this.registry = registry;
	}

	@Override
	public @Nullable ReactiveHealthContributor getContributor(String name) {
		return servers().get(name);
	}

	@Override
	public Stream<Entry> stream() {
		return servers().entrySet().stream().map(server -> new Entry(server.getKey(), server.getValue()));
	}

	private Map<String, ReactiveHealthContributor> servers() {
		Map<String, ReactiveHealthContributor> servers = new LinkedHashMap<>();
		for (DataSource dataSource : this.registry.dataSources()) {
			servers.put(dataSource.name() + "-primary", new SwitchboardHealthIndicator(dataSource.primary()));
			for (int i = 0; i < dataSource.replicas().size(); i++) {
				servers.put(dataSource.name() + "-replica-" + i, new SwitchboardHealthIndicator(dataSource.replicas().get(i)));
			}
		}
		return servers;
	}
}
