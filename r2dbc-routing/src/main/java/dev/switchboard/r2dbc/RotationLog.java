package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.DataSource;
import reactor.util.Logger;
import reactor.util.Loggers;

/**
 * Tells operators when a server leaves the rotation and when it comes back: a WARN with the cause
 * when it is taken out (it failed to connect or went away, or it is further behind than
 * {@code maxReplicationLag}), an INFO when it is back. Only changes are logged, never a request,
 * so a server that stays down logs once. Logged through Reactor's {@link Loggers} (SLF4J when
 * present), under this class's name.
 */
final class RotationLog {

	private static final Logger logger = Loggers.getLogger(RotationLog.class);

	private RotationLog() {
	}

	/** {@code target} was taken out of rotation because of {@code cause}. */
	static void down(DataSource.Target target, Throwable cause) {
		logger.warn("Switchboard: {} left the rotation: {}; it is tried again by the probe", target.name(), describe(cause));
	}

	/** {@code target} lags further than {@code max} behind its primary. */
	static void lagging(DataSource.Target target, long lagNanos, Duration max) {
		logger.warn("Switchboard: {} left the rotation: it is {} behind its primary, beyond max-replication-lag {}",
				target.name(), Duration.ofNanos(lagNanos), max);
	}

	/** {@code target} is back in rotation. */
	static void up(DataSource.Target target) {
		logger.info("Switchboard: {} is back in rotation", target.name());
	}

	private static String describe(Throwable cause) {
		Throwable root = cause;
		while (root.getCause() != null && root.getCause() != root) {
			root = root.getCause();
		}
		String text = cause.getClass().getName() + ": " + cause.getMessage();
		return root == cause ? text : text + " (caused by " + root.getClass().getName() + ": " + root.getMessage() + ")";
	}
}
