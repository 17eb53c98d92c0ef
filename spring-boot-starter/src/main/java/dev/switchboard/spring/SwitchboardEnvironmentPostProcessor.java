package dev.switchboard.spring;

import java.util.Map;

import org.springframework.boot.EnvironmentPostProcessor;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.env.DefaultPropertiesPropertySource;
import org.springframework.core.env.ConfigurableEnvironment;

/**
 * Turns Boot's own {@code r2dbc} health indicator off by default
 * ({@code management.health.r2dbc.enabled=false}, as a default property: any setting of the
 * application wins). That indicator validates a connection of every {@code ConnectionFactory}
 * bean; on the routed factory it runs without a tenant, gets {@code MISSING_CONTEXT} and reports
 * DOWN for good. The starter's {@code switchboard} contributor checks every server instead.
 * Registered in {@code META-INF/spring.factories}.
 */
public final class SwitchboardEnvironmentPostProcessor implements EnvironmentPostProcessor {

	@Override
	public void postProcessEnvironment(ConfigurableEnvironment environment, SpringApplication application) {
		DefaultPropertiesPropertySource.addOrMerge(Map.of("management.health.r2dbc.enabled", "false"),
				environment.getPropertySources());
	}
}
