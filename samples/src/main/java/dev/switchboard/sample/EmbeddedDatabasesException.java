package dev.switchboard.sample;

import java.nio.file.Path;

/**
 * The embedded servers did not start; {@link EmbeddedDatabasesFailureAnalyzer} reports it with what
 * to do, the H2 demo among it.
 */
final class EmbeddedDatabasesException extends RuntimeException {

	private final Path folder;

	EmbeddedDatabasesException(Path folder, RuntimeException cause) {
		super("The embedded databases did not start under " + folder + ": " + cause.getMessage(), cause);
		this.folder = folder;
	}

	Path folder() {
		return this.folder;
	}
}
