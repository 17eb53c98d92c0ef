package dev.switchboard.sample;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.switchboard.embedded.EmbeddedTopology;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.core.env.Environment;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Embedded servers that cannot start (here: a port another program holds, found before any server
 * starts) stop the sample with a report, through the analyzers of {@code spring.factories} as Boot
 * asks them, that names the port and points to other ports and to the H2 demo; the folder is left
 * as it was found.
 */
class EmbeddedDatabasesFailureTest {

	@Test
	void aTakenPortIsReportedWithOtherPortsAndTheH2DemoAsTheWayOut() throws Exception {
		Path folder = EmbeddedTopology.defaultFolder("switchboard-sample-failure-test-" + ProcessHandle.current().pid());
		try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
				GenericApplicationContext context = new GenericApplicationContext()) {
			context.getEnvironment().getPropertySources().addFirst(new MapPropertySource("test", Map.of(
					"sample.embedded.enabled", "true", "sample.embedded.folder", folder.toString(),
					"sample.embedded.ports.postgres-primary", "0", "sample.embedded.ports.postgres-replica", "0",
					"sample.embedded.ports.postgres-lagging", "0", "sample.embedded.ports.mariadb-primary",
					Integer.toString(taken.getLocalPort()), "sample.embedded.ports.mariadb-replica", "0",
					"sample.embedded.ports.mariadb-lagging", "0")));

			Throwable failure = catchThrowable(() -> new EmbeddedDatabases().initialize(context));

			assertThat(failure).isInstanceOf(EmbeddedDatabasesException.class);
			List<FailureAnalyzer> analyzers = SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
				.load(FailureAnalyzer.class, SpringFactoriesLoader.ArgumentResolver
					.of(BeanFactory.class, context.getDefaultListableBeanFactory())
					.and(Environment.class, context.getEnvironment()),
						// As Boot's FailureAnalyzers: an analyzer whose classes are missing is left out.
						SpringFactoriesLoader.FailureHandler.handleMessage((message, ex) -> {
						}));
			assertThat(analyzers).hasAtLeastOneElementOfType(EmbeddedDatabasesFailureAnalyzer.class);
			FailureAnalysis analysis = analyzers.stream()
				.map(analyzer -> analyzer.analyze(failure))
				.filter(Objects::nonNull)
				.findFirst()
				.orElseThrow();
			assertThat(analysis.getDescription()).contains("Port " + taken.getLocalPort(), "mariadb-primary",
					folder.toString());
			assertThat(analysis.getAction()).contains("--sample.embedded.ports.postgres-primary=",
					"scripts/run-sample.sh --spring.profiles.active=h2", "--spring.profiles.active=devdb");
		}
		assertThat(folder).doesNotExist();
	}
}
