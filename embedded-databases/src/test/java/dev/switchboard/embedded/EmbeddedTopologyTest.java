package dev.switchboard.embedded;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

/**
 * The builder's checks, and the start that a taken port refuses before any server runs.
 */
class EmbeddedTopologyTest {

	private final EmbeddedTopology.Builder builder = EmbeddedTopology.builder(Path.of("/tmp/switchboard-embedded-unit"));

	@Test
	void aPortOutOfRangeIsRefusedNamingTheSetting() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.builder.postgresPorts(54432, 70000, 54434))
			.withMessage("postgresPorts must be between 0 and 65535, was 70000");
		assertThatIllegalArgumentException().isThrownBy(() -> this.builder.mariadbPorts(-1, 0, 0))
			.withMessage("mariadbPorts must be between 0 and 65535, was -1");
	}

	@Test
	void aDelayMustBeWholeSeconds() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.builder.replicationDelay(Duration.ofMillis(1500)))
			.withMessage("replicationDelay must be whole seconds, at least 1 s, was PT1.5S");
		assertThatIllegalArgumentException().isThrownBy(() -> this.builder.replicationDelay(Duration.ZERO))
			.withMessageStartingWith("replicationDelay must be whole seconds");
	}

	@Test
	void anOsUserMustBeAPlainName() {
		assertThatIllegalArgumentException().isThrownBy(() -> this.builder.osUser("root; rm -rf /"))
			.withMessage("osUser must be a plain user name, was 'root; rm -rf /'");
	}

	@Test
	void aPortTakenByAnotherProgramFailsTheStartNamingPortAndServer() throws Exception {
		Path folder = EmbeddedTopology.defaultFolder("switchboard-embedded-unit-" + ProcessHandle.current().pid());
		try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			int port = taken.getLocalPort();
			assertThatIllegalStateException()
				.isThrownBy(() -> EmbeddedTopology.builder(folder).mariadbPorts(0, port, 0).start())
				.withMessageContaining("Port " + port + " on 127.0.0.1, for mariadb-replica, is in use");
		}
		finally {
			EmbeddedTopology.cleanUpDeadRuns(folder.getParent(), folder.getFileName().toString());
		}
		assertThat(folder).doesNotExist();
	}

	@Test
	void aPortHeldForAMomentIsWaitedFor() throws Exception {
		ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
		int port = taken.getLocalPort();
		// As an outgoing connection that picked the port from the ephemeral range lets it go.
		Thread.ofVirtual().start(() -> {
			try {
				Thread.sleep(1000);
				taken.close();
			}
			catch (Exception ex) {
				throw new IllegalStateException(ex);
			}
		});
		long start = System.nanoTime();
		RunFolder.requireFree(port, "postgres-lagging");
		assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(900));
	}
}
