package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs a short command to its end and returns what it printed: {@code initdb}, {@code cp},
 * {@code kill}, the MariaDB client. The servers themselves are {@link ServerProcess}es.
 */
final class Commands {

	private static final long TIMEOUT_SECONDS = 120;

	private Commands() {
	}

	/**
	 * What a command did.
	 * @param exitCode its exit code
	 * @param output what it printed, standard output and error together
	 */
	record Result(int exitCode, String output) {

		/**
		 * Return the output, or fail naming the command if it did not exit with 0.
		 * @param command the command, for the message
		 * @return the output, stripped
		 */
		String orFail(List<String> command) {
			if (this.exitCode != 0) {
				throw new IllegalStateException(String.join(" ", command) + " exited with " + this.exitCode + ": "
						+ this.output.strip());
			}
			return this.output.strip();
		}
	}

	/**
	 * Run a command without input.
	 * @param command the program and its arguments
	 * @return what it did
	 */
	static Result run(List<String> command) {
		return run(command, "");
	}

	/**
	 * Run a command, writing {@code input} to its standard input.
	 * @param command the program and its arguments
	 * @param input the text for its standard input
	 * @return what it did
	 * @throws IllegalStateException if it does not end within two minutes
	 */
	static Result run(List<String> command, String input) {
		try {
			Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
			// Read on a thread of its own, so that a command that hangs still times out below.
			CompletableFuture<String> output = CompletableFuture.supplyAsync(() -> {
				try {
					return new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
				}
				catch (IOException ex) {
					throw new UncheckedIOException(ex);
				}
			}, task -> Thread.ofVirtual().start(task));
			process.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
			process.getOutputStream().close();
			if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
				process.destroyForcibly();
				throw new IllegalStateException(String.join(" ", command) + " did not end in " + TIMEOUT_SECONDS + " s");
			}
			return new Result(process.exitValue(), output.join());
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not run " + command.get(0), ex);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while running " + command.get(0), ex);
		}
	}
}
