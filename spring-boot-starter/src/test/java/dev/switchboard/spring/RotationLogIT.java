package dev.switchboard.spring;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A replica that cannot be reached is logged once at WARN with the cause, however many reads
 * follow, and at INFO when the probe finds it back. The replica's port is first closed (refused),
 * then opened by a plain TCP relay to the real PostgreSQL replica: no shared server is stopped. A
 * replica further behind than {@code max-replication-lag} is logged the same way, with its lag.
 */
@ExtendWith(OutputCaptureExtension.class)
class RotationLogIT {

	static final String LAG_TABLE = "rotation_log_lag";

	@Test
	void aReplicaLeavingAndReturningIsLoggedOnceEach(CapturedOutput output) throws Exception {
		Topology.Engine postgres = DevDatabases.topology().postgres();
		int port = freePort();
		new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
				.withPropertyValues("switchboard.datasources.main.primary=" + postgres.url(postgres.primary()),
						"switchboard.datasources.main.replicas[0]=r2dbc:postgresql://postgres@127.0.0.1:" + port + "/"
								+ Topology.DATABASE,
						"switchboard.datasources.main.probe-interval=100ms",
						"switchboard.tenants.acme.datasource=main")
				.run(context -> {
					RoutingConnectionFactory routing = context.getBean(RoutingConnectionFactory.class);
					for (int i = 0; i < 5; i++) {
						read(routing);
					}
					assertThat(count(output.toString(), "main/replica-0 left the rotation")).isEqualTo(1);
					Relay.open(port, postgres.replica().host(), postgres.replica().port());
					long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
					while (!output.toString().contains("main/replica-0 is back in rotation") && System.nanoTime() < deadline) {
						Thread.sleep(50);
					}
					read(routing);
					read(routing);
				});
		String log = output.toString();
		assertThat(log).containsPattern("WARN .*Switchboard: main/replica-0 left the rotation: .*Connection refused");
		assertThat(log).containsPattern("INFO .*Switchboard: main/replica-0 is back in rotation");
		assertThat(count(log, "left the rotation")).isEqualTo(1);
		assertThat(count(log, "is back in rotation")).isEqualTo(1);
	}

	@Test
	void aReplicaBeyondTheMaximumLagIsLoggedWithItsLagAndWhenItCatchesUp(CapturedOutput output) {
		Topology topology = DevDatabases.topology();
		Topology.Engine postgres = topology.postgres();
		topology.createIdTable(LAG_TABLE);
		new ApplicationContextRunner()
				.withConfiguration(AutoConfigurations.of(SwitchboardAutoConfiguration.class))
				.withPropertyValues("switchboard.datasources.lagged.primary=" + postgres.url(postgres.primary()),
						// The replica that applies changes 2 s late.
						"switchboard.datasources.lagged.replicas[0]=" + postgres.url(postgres.laggingReplica()),
						"switchboard.datasources.lagged.max-replication-lag=500ms",
						"switchboard.datasources.lagged.probe-interval=100ms",
						"switchboard.tenants.acme.datasource=lagged")
				.run(context -> {
					// Writes on the primary, outside Switchboard, keep the replica 2 s behind.
					ConnectionFactory primary = postgres.connectionFactory(postgres.primary());
					AtomicBoolean writing = new AtomicBoolean(true);
					String run = Long.toHexString(System.nanoTime());
					Disposable writer = Flux.interval(Duration.ofMillis(50))
							.onBackpressureDrop()
							.takeWhile(tick -> writing.get())
							.concatMap(tick -> Sql.update(primary, "INSERT INTO " + LAG_TABLE + " (id) VALUES ($1)", run + "-" + tick))
							.subscribe();
					try {
						Await.until(Duration.ofSeconds(15), () -> output.toString().contains("lagged/replica-0 left the rotation"));
					}
					finally {
						writing.set(false);
						writer.dispose();
					}
					Await.until(Duration.ofSeconds(15), () -> output.toString().contains("lagged/replica-0 is back in rotation"));
				});
		String log = output.toString();
		assertThat(log).containsPattern(
				"WARN .*Switchboard: lagged/replica-0 left the rotation: it is PT\\d+(\\.\\d+)?S behind its primary, beyond max-replication-lag PT0.5S");
		assertThat(log).containsPattern("INFO .*Switchboard: lagged/replica-0 is back in rotation");
		// Each change once, not a line per probe (every 100 ms) while it stays behind.
		assertThat(count(log, "lagged/replica-0 left the rotation")).isEqualTo(1);
		assertThat(count(log, "lagged/replica-0 is back in rotation")).isEqualTo(1);
	}

	/** A read: to the replica while it is in rotation, else to the primary. */
	static void read(RoutingConnectionFactory routing) {
		Mono.usingWhen(routing.create(),
						(Connection connection) -> Flux.from(connection.createStatement("SELECT 1").execute())
								.flatMap(result -> result.map(row -> 1)).then(),
						Connection::close)
				.contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant("acme"))
				.onErrorResume(failure -> Mono.empty())
				.block(Duration.ofSeconds(10));
	}

	static int freePort() throws IOException {
		try (ServerSocket socket = new ServerSocket(0)) {
			return socket.getLocalPort();
		}
	}

	static int count(String text, String part) {
		int count = 0;
		for (int at = text.indexOf(part); at >= 0; at = text.indexOf(part, at + 1)) {
			count++;
		}
		return count;
	}
}
