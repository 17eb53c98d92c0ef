package dev.switchboard.embedded;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The folder a topology keeps its servers' data in, and what a crashed run left there.
 *
 * <p>A run holds an OS file lock on {@code <folder>.lock} while it lives; the OS drops it when the
 * JVM dies, however it dies. So a folder whose lock can be taken belongs to a dead run: its
 * servers, found through their pid files and checked by command line, are killed and the folder
 * is deleted before a new run starts. A folder whose lock is held belongs to a live run and is
 * left alone.
 */
final class RunFolder implements AutoCloseable {

	private static final Logger logger = LoggerFactory.getLogger(RunFolder.class);

	private final Path folder;

	private final FileChannel lockFile;

	private final FileLock lock;

	private RunFolder(Path folder, FileChannel lockFile, FileLock lock) {
		this.folder = folder;
		this.lockFile = lockFile;
		this.lock = lock;
	}

	/**
	 * Take a folder for a new run: lock it, clean up after a dead run, and create it empty.
	 * @param folder the folder
	 * @return the locked, empty folder
	 * @throws IllegalStateException if a live run holds it
	 */
	static RunFolder take(Path folder) {
		Path lockPath = folder.resolveSibling(folder.getFileName() + ".lock");
		try {
			Files.createDirectories(folder.getParent());
			FileChannel channel = FileChannel.open(lockPath, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
			FileLock lock;
			try {
				lock = channel.tryLock();
			}
			catch (OverlappingFileLockException ex) {
				// This JVM holds it already.
				lock = null;
			}
			if (lock == null) {
				channel.close();
				throw new IllegalStateException("Another running service uses " + folder
						+ " for its embedded databases: stop it, or give this one another folder.");
			}
			if (Files.exists(folder)) {
				killLeftovers(folder);
				delete(folder);
			}
			Files.createDirectories(folder);
			return new RunFolder(folder, channel, lock);
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not take the folder " + folder, ex);
		}
	}

	/**
	 * Clean up the folders of dead runs whose names start with {@code prefix}: for callers that
	 * name a run's folder after its process, so that a new run never meets the old folder itself.
	 * Folders of live runs are left alone.
	 * @param parent the folder that holds the runs' folders
	 * @param prefix the start of their names
	 */
	static void cleanUpDeadRuns(Path parent, String prefix) {
		if (!Files.isDirectory(parent)) {
			return;
		}
		List<Path> runs;
		try (Stream<Path> children = Files.list(parent)) {
			runs = children.filter(child -> child.getFileName().toString().startsWith(prefix) && Files.isDirectory(child))
				.toList();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not list " + parent, ex);
		}
		for (Path run : runs) {
			try {
				take(run).close();
			}
			catch (IllegalStateException ex) {
				// A live run: not ours to clean.
			}
		}
	}

	private static void killLeftovers(Path folder) throws IOException {
		List<Path> pidFiles;
		try (Stream<Path> files = Files.walk(folder, 3)) {
			pidFiles = files.filter(file -> file.getFileName().toString().matches("postmaster\\.pid|server\\.pid"))
				.toList();
		}
		for (Path pidFile : pidFiles) {
			Optional<ProcessHandle> server = readPid(pidFile).flatMap(ProcessHandle::of)
				.filter(process -> process.info().commandLine().orElse("").contains(folder.toString()));
			server.ifPresent(process -> {
				logger.info("Killing {} (pid {}), left running by a run that died", process.info().command().orElse("?"),
						process.pid());
				process.descendants().forEach(ProcessHandle::destroyForcibly);
				process.destroyForcibly();
				process.onExit().join();
			});
		}
	}

	private static Optional<Long> readPid(Path pidFile) {
		try {
			return Files.readAllLines(pidFile).stream().findFirst().map(String::strip).map(Long::valueOf);
		}
		catch (IOException | NumberFormatException ex) {
			return Optional.empty();
		}
	}

	/**
	 * Fail if a port is taken on 127.0.0.1, naming the server that needs it. The default ports lie
	 * in Linux's ephemeral range (32768 to 60999), where an outgoing connection of any program may
	 * hold one for a while (seen once in CI, right after the test suite's connections): a port
	 * taken is tried again for {@value #PORT_WAIT_TRIES} tenths of a second before it fails.
	 * @param port the port
	 * @param server the server that needs it
	 * @throws IllegalStateException if it is taken
	 */
	static void requireFree(int port, String server) {
		for (int tried = 1;; tried++) {
			try (ServerSocket socket = new ServerSocket()) {
				socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
				return;
			}
			catch (IOException ex) {
				if (tried == PORT_WAIT_TRIES) {
					throw new IllegalStateException("Port " + port + " on 127.0.0.1, for " + server
							+ ", is in use by another program: choose other ports for the embedded databases.", ex);
				}
			}
			try {
				Thread.sleep(100);
			}
			catch (InterruptedException ex) {
				Thread.currentThread().interrupt();
				throw new IllegalStateException("Interrupted while waiting for port " + port + " for " + server, ex);
			}
		}
	}

	/** How many times {@link #requireFree} tries a port, a tenth of a second apart. */
	static final int PORT_WAIT_TRIES = 50;

	/**
	 * Return a port that is free on 127.0.0.1 now.
	 * @return the port
	 */
	static int freePort() {
		try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
			return socket.getLocalPort();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("no free port", ex);
		}
	}

	Path path() {
		return this.folder;
	}

	/** Delete the folder and release the lock; the servers must have stopped. Idempotent. */
	@Override
	public synchronized void close() {
		if (!this.lockFile.isOpen()) {
			return;
		}
		try {
			delete(this.folder);
			Files.deleteIfExists(this.folder.resolveSibling(this.folder.getFileName() + ".lock"));
			this.lock.release();
			this.lockFile.close();
		}
		catch (IOException ex) {
			throw new UncheckedIOException("could not delete " + this.folder, ex);
		}
	}

	private static void delete(Path folder) throws IOException {
		if (!Files.exists(folder)) {
			return;
		}
		try (Stream<Path> files = Files.walk(folder)) {
			for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
				Files.deleteIfExists(file);
			}
		}
	}
}
