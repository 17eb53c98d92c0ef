package dev.switchboard.benchmarks;

import java.lang.management.ManagementFactory;

/**
 * Bytes allocated per statement of {@link EndToEndBenchmark}, by all threads, and the process's
 * CPU time per statement: figures that a busy machine does not blur as it blurs ops/s (issue 20
 * was measured at a load average of 13 to 21 on 2 cores, where JMH's per-iteration B/op swung by
 * thousands of bytes at a few hundred statements per second).
 *
 * <p>Usage: {@code java -Xms1g -Xmx1g -cp benchmarks.jar dev.switchboard.benchmarks.StatementAllocation
 * <variant> <method> <warmup invocations> <rounds> <invocations per round>}, for example
 * {@code routed selectC64 600 2 150}. It runs {@link EndToEndBenchmark#setUp()}, warms up (the JIT's
 * escape analysis removes allocations only once the path is compiled), then prints, per round,
 * the bytes ({@code ThreadMXBean.getTotalThreadAllocatedBytes}) and the process CPU time per
 * statement, and the statements per second.
 */
public final class StatementAllocation {

	private StatementAllocation() {
	}

	/**
	 * Measure one variant and method.
	 * @param args variant, method, warmup invocations, rounds, invocations per round
	 */
	public static void main(String[] args) {
		if (args.length != 5) {
			throw new IllegalArgumentException(
					"usage: StatementAllocation <variant> <method> <warmup invocations> <rounds> <invocations per round>");
		}
		String method = args[1];
		int warmup = Integer.parseInt(args[2]);
		int rounds = Integer.parseInt(args[3]);
		int invocations = Integer.parseInt(args[4]);
		EndToEndBenchmark benchmark = new EndToEndBenchmark();
		benchmark.variant = args[0];
		benchmark.setUp();
		try {
			Runnable call = switch (method) {
				case "selectC1" -> benchmark::selectC1;
				case "selectC64" -> benchmark::selectC64;
				case "insertC1" -> benchmark::insertC1;
				case "insertC64" -> benchmark::insertC64;
				default -> throw new IllegalArgumentException(
						"method must be selectC1, selectC64, insertC1 or insertC64, was " + method);
			};
			double perInvocation = method.endsWith("C64") ? EndToEndBenchmark.CONCURRENCY : 1;
			com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
			com.sun.management.OperatingSystemMXBean system =
					(com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
			for (int i = 0; i < warmup; i++) {
				call.run();
			}
			StringBuilder line = new StringBuilder(args[0] + " " + method + ":");
			for (int round = 0; round < rounds; round++) {
				long bytes = threads.getTotalThreadAllocatedBytes();
				long cpu = system.getProcessCpuTime();
				long start = System.nanoTime();
				for (int i = 0; i < invocations; i++) {
					call.run();
				}
				double statements = invocations * perInvocation;
				line.append(String.format(" [%.0f B, %.1f us cpu, %.0f/s]",
						(threads.getTotalThreadAllocatedBytes() - bytes) / statements,
						(system.getProcessCpuTime() - cpu) / statements / 1000,
						statements / ((System.nanoTime() - start) / 1e9)));
			}
			System.out.println(line);
		}
		finally {
			benchmark.tearDown();
		}
	}
}
