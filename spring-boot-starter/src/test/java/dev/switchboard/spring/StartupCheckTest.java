package dev.switchboard.spring;

import java.net.ConnectException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.R2dbcPermissionDeniedException;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How the startup check names a cause, from the exceptions drivers raise. (An unknown host met
 * through a driver's own resolver is {@code FailureReportTest}'s; it once timed out instead, because
 * BlockHound stopped Netty's resolver from sending its query: see
 * {@link NettyDnsBlockHoundIntegration}.)
 */
class StartupCheckTest {

	static final Duration TIMEOUT = Duration.ofSeconds(10);

	@Test
	void anUnknownHostAnywhereInTheChainIsNamedSo() {
		assertThat(StartupCheck.cause(new IllegalStateException("connect failed",
				new UnknownHostException("db1: Name or service not known")), TIMEOUT))
				.isEqualTo("unknown host (db1: Name or service not known)");
	}

	@Test
	void aRefusedConnectionIsNamedSo() {
		assertThat(StartupCheck.cause(new ConnectException("Connection refused: /127.0.0.1:1"), TIMEOUT))
				.startsWith("connection refused");
	}

	@Test
	void authenticationAndMissingDatabaseAreNamedBySqlState() {
		assertThat(StartupCheck.cause(new R2dbcPermissionDeniedException("denied"), TIMEOUT)).startsWith("authentication failed");
		assertThat(StartupCheck.cause(new R2dbcNonTransientResourceException("password authentication failed", "28P01"), TIMEOUT))
				.startsWith("authentication failed");
		assertThat(StartupCheck.cause(new R2dbcNonTransientResourceException("database \"x\" does not exist", "3D000"), TIMEOUT))
				.startsWith("database does not exist");
		assertThat(StartupCheck.cause(new R2dbcNonTransientResourceException("Unknown database 'x'", "42000", 1049), TIMEOUT))
				.startsWith("database does not exist");
	}

	@Test
	void noAnswerInTimeSaysHowLongItWaited() {
		assertThat(StartupCheck.cause(new TimeoutException(), TIMEOUT)).isEqualTo("no connection within PT10S");
	}

	@Test
	void anythingElseNamesTheFailureAndItsRootCause() {
		assertThat(StartupCheck.cause(new IllegalStateException("odd", new IllegalArgumentException("root")), TIMEOUT))
				.isEqualTo("IllegalStateException (odd), caused by java.lang.IllegalArgumentException (root)");
	}
}
