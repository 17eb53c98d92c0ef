package dev.switchboard.spring;

import dev.switchboard.r2dbc.RoutingConnectionFactory;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * The {@link SwitchboardEndpoint} ({@code /actuator/switchboard}), when Actuator is on the class
 * path and the endpoint is available (enabled and exposed, as Actuator decides for any endpoint).
 */
@AutoConfiguration(after = SwitchboardAutoConfiguration.class)
@ConditionalOnClass(name = { "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
		"org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint" })
public class SwitchboardEndpointAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	@ConditionalOnBean(RoutingConnectionFactory.class)
	@ConditionalOnAvailableEndpoint(SwitchboardEndpoint.class)
	SwitchboardEndpoint switchboardEndpoint(RoutingConnectionFactory routing) {
		return new SwitchboardEndpoint(routing);
	}
}
