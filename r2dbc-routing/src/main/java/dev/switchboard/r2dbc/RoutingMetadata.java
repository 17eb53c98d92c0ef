package dev.switchboard.r2dbc;

import java.util.LinkedHashSet;
import java.util.Set;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import io.r2dbc.spi.ConnectionFactoryMetadata;

/**
 * What {@link RoutingConnectionFactory#getMetadata()} reports: the metadata of the datasources'
 * primaries when they all run the same product, else
 * {@value RoutingConnectionFactory#MIXED_NAME} followed by the product names.
 */
final class RoutingMetadata {

	private RoutingMetadata() {
	}

	/**
	 * Return the metadata of a registry's datasources, read once, when the factory is built.
	 * @param registry the registry
	 * @return the primaries' metadata, or a mixed one
	 */
	static ConnectionFactoryMetadata of(DataSourceRegistry registry) {
		Set<String> names = new LinkedHashSet<>();
		ConnectionFactoryMetadata first = null;
		for (DataSource dataSource : registry.dataSources()) {
			ConnectionFactoryMetadata candidate = dataSource.primary().connectionFactory().getMetadata();
			names.add(candidate.getName());
			if (first == null) {
				first = candidate;
			}
		}
		if (names.size() == 1) {
			return first;
		}
		String mixed = RoutingConnectionFactory.MIXED_NAME;
		String name = names.isEmpty() ? mixed : mixed + " " + String.join(", ", names);
		return () -> name;
	}
}
