package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One database server, a child process of this JVM: started, waited for until its log says it is
 * ready, stopped cleanly, or killed the way a crash would.
 *
 * <p>Its output goes to a log file in its folder. Stopping and killing send the signals that
 * each engine documents (PostgreSQL: SIGINT for a fast shutdown, SIGQUIT for an immediate one;
 * MariaDB: SIGTERM and SIGKILL). Methods are synchronized: the admin calls of the sample may race
 * with the shutdown.
 */
final class ServerProcess {

	private static final Logger logger = LoggerFactory.getLogger(ServerProcess.class);

	private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);

	private static final Duration STOP_TIMEOUT = Duration.ofSeconds(30);

	private final String name;

	private final int port;

	private final List<String> command;

	private final Path log;

	private final List<String> readyLines;

	private final String stopSignal;

	private final String killSignal;

	private @Nullable Process process;

	/**
	 * Describe a server; nothing runs until {@link #start()}.
	 * @param name the server's name, for messages and progress lines
	 * @param port its TCP port on 127.0.0.1
	 * @param command the command that runs it in the foreground
	 * @param log the file its output is appended to
	 * @param readyLines lines that its log shows, all of them, once it serves as expected
	 * @param stopSignal the signal for a clean stop, as {@code kill} names it
	 * @param killSignal the signal that stops it as a crash would
	 */
	ServerProcess(String name, int port, List<String> command, Path log, List<String> readyLines, String stopSignal,
			String killSignal) {
		this.name = name;
		this.port = port;
		this.command = List.copyOf(command);
		this.log = log;
		this.readyLines = List.copyOf(readyLines);
		this.stopSignal = stopSignal;
		this.killSignal = killSignal;
	}

	String name() {
		return this.name;
	}

	int port() {
		return this.port;
	}

	/**
	 * Start the server and wait until it is ready; does nothing if it runs.
	 * @throws IllegalStateException with the end of its log if it exits or is not ready in 90 s
	 */
	synchronized void start() {
		if (this.process != null && this.process.isAlive()) {
			return;
		}
		long started = System.nanoTime();
		try {
			long offset = Files.exists(this.log) ? Files.size(this.log) : 0;
			this.process = new ProcessBuilder(this.command).redirectErrorStream(true)
				.redirectOutput(ProcessBuilder.Redirect.appendTo(this.log.toFile()))
				.start();
			awaitReady(this.process, offset);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not start " + this.name, ex);
		}
		logger.info("{} ready on 127.0.0.1:{} ({} ms)", this.name, this.port,
				TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
	}

	private void awaitReady(Process started, long offset) throws IOException {
		long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
		while (true) {
			String output = readFrom(offset);
			if (this.readyLines.stream().allMatch(output::contains)) {
				return;
			}
			if (!started.isAlive() || System.nanoTime() > deadline) {
				started.destroyForcibly();
				throw new IllegalStateException(this.name + " on port " + this.port
						+ (started.isAlive() ? " was not ready in " + READY_TIMEOUT.toSeconds() + " s" : " exited")
						+ "; the end of its log " + this.log + ":\n" + tail(output));
			}
			sleep(50);
		}
	}

	private String readFrom(long offset) throws IOException {
		byte[] all = Files.readAllBytes(this.log);
		return new String(all, (int) Math.min(offset, all.length), (int) Math.max(0, all.length - offset),
				StandardCharsets.UTF_8);
	}

	private static String tail(String output) {
		List<String> lines = output.lines().toList();
		return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
	}

	/** Stop the server cleanly and wait for it; kill it if it does not stop in 30 s. */
	synchronized void stop() {
		signalAndWait(this.stopSignal);
	}

	/** Stop the server as a crash would (no shutdown checkpoint), and wait for it. */
	synchronized void kill() {
		signalAndWait(this.killSignal);
	}

	boolean isRunning() {
		Process current = this.process;
		return current != null && current.isAlive();
	}

	private void signalAndWait(String signal) {
		Process current = this.process;
		if (current == null || !current.isAlive()) {
			return;
		}
		Commands.run(List.of("kill", "-" + signal, Long.toString(current.pid())));
		try {
			if (!current.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
				logger.warn("{} did not stop in {} s after SIG{}; killing it", this.name, STOP_TIMEOUT.toSeconds(), signal);
				current.descendants().forEach(ProcessHandle::destroyForcibly);
				current.destroyForcibly().waitFor();
			}
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			current.destroyForcibly();
		}
	}

	private static void sleep(long millis) {
		try {
			Thread.sleep(millis);
		}
		catch (InterruptedException ex) {
			Thread.currentThread().interrupt();
			throw new IllegalStateException("interrupted while waiting for a server", ex);
		}
	}
}
