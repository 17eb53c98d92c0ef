package dev.switchboard.spring;

import java.time.Duration;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TargetStatus;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ValidationDepth;
import org.springframework.boot.health.contributor.AbstractReactiveHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import reactor.core.publisher.Mono;

/**
 * The health of one server of a datasource: a connection from its pool validated against the
 * server, within 2 s, with what the datasource's probe knows of it: whether it is in rotation and,
 * when lag is measured, how far behind the primary it is.
 */
final class SwitchboardHealthIndicator extends AbstractReactiveHealthIndicator {

	private static final Duration TIMEOUT = Duration.ofSeconds(2);

	private final DataSource.Target target;

	SwitchboardHealthIndicator(DataSource.Target target) {
		super("Health check of " + target.name() + " failed");
		this.target = target;
	}

	@Override
	protected Mono<Health> doHealthCheck(Health.Builder builder) {
		return Mono.usingWhen(this.target.connectionFactory().create(),
						connection -> Mono.from(connection.validate(ValidationDepth.REMOTE)),
						Connection::close)
				.timeout(TIMEOUT)
				.map(valid -> {
					(valid ? builder.up() : builder.down()).withDetail("datasource", this.target.dataSource().name())
							.withDetail("role", this.target.role().tag());
					// A target whose datasource tracks no health (an application's own) says nothing of it.
					TargetStatus status = this.target.status();
					if (status != TargetStatus.UNTRACKED) {
						builder.withDetail("inRotation", status.available());
						if (status.lag() != null) {
							builder.withDetail("lag", status.lag().toString());
						}
					}
					return builder.build();
				});
	}
}
