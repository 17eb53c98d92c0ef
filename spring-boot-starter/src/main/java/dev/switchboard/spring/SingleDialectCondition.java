package dev.switchboard.spring;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;

import dev.switchboard.api.Engine;
import dev.switchboard.jooq.RoutedDsl;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Matches when every configured datasource uses the same SQL dialect, so that one plain
 * {@code DSLContext} can serve them all. The dialect is the configured one, else the driver of the
 * primary's URL.
 */
final class SingleDialectCondition implements Condition {

	@Override
	public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
		Map<String, SwitchboardProperties.DataSourceProperties> dataSources = Binder.get(context.getEnvironment())
				.bind("switchboard.datasources", Bindable.mapOf(String.class, SwitchboardProperties.DataSourceProperties.class))
				.orElse(Map.of());
		Set<String> dialects = new HashSet<>();
		for (SwitchboardProperties.DataSourceProperties dataSource : dataSources.values()) {
			String primary = dataSource.primary();
			dialects.add(dataSource.dialect() != null ? dataSource.dialect().name() : driverOf(primary != null ? primary : ""));
		}
		return dialects.size() == 1;
	}

	/** The dialect of the primary's driver, or the URL itself when the driver is not known. */
	private static String driverOf(String url) {
		Engine engine = Engine.fromUrl(url);
		return engine != null ? RoutedDsl.Builder.dialectOf(engine).name() : url;
	}
}
