package dev.switchboard.spring;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * A plain TCP relay for tests: a port that forwards every connection to a server, so that a test
 * can make a server appear where there was none without touching the shared servers. Runs on
 * daemon threads of its own (never on a Reactor thread); lives as long as the test JVM.
 */
final class Relay {

	private Relay() {
	}

	static void open(int port, String host, int targetPort) throws IOException {
		ServerSocket server = new ServerSocket(port);
		daemon(() -> {
			while (true) {
				Socket client = server.accept();
				Socket upstream = new Socket(host, targetPort);
				daemon(() -> pump(client.getInputStream(), upstream.getOutputStream(), client, upstream));
				daemon(() -> pump(upstream.getInputStream(), client.getOutputStream(), client, upstream));
			}
		});
	}

	private static void pump(InputStream in, OutputStream out, Socket a, Socket b) throws IOException {
		try (a; b) {
			in.transferTo(out);
		}
	}

	private interface Job {

		void run() throws IOException;
	}

	private static void daemon(Job job) {
		Thread thread = new Thread(() -> {
			try {
				job.run();
			}
			catch (IOException ex) {
				// The other side closed: the relay's connection ends with it.
			}
		}, "test-relay");
		thread.setDaemon(true);
		thread.start();
	}
}
