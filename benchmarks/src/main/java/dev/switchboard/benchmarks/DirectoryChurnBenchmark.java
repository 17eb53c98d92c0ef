package dev.switchboard.benchmarks;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import dev.switchboard.r2dbc.Placement;
import dev.switchboard.r2dbc.TenantDirectory;
import dev.switchboard.api.TenantId;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;

/**
 * {@link RouteDecisionBenchmark} while the routing factory's {@link TenantDirectory} changes: with
 * {@link #writer} = {@code 1ms}, a thread onboards a new tenant every millisecond, each change a
 * new snapshot that the decisions read, as a service onboarding customers does (far faster than
 * one would). With {@code none}, the same benchmark with no writer, measured in the same run.
 * Select its {@code switchboard} method alone:
 * {@code scripts/bench.sh 'DirectoryChurnBenchmark.switchboard$' -p tenants=1000 -p dataSources=10}.
 */
public class DirectoryChurnBenchmark extends RouteDecisionBenchmark {

	/** {@code none}, or {@code 1ms}: how often the writer thread onboards a tenant. */
	@Param({ "none", "1ms" })
	public String writer;

	private ScheduledExecutorService onboarding;

	private final AtomicLong onboarded = new AtomicLong();

	/**
	 * Start the writer once, before the first iteration: after the trial's setup built the routing
	 * factory (JMH runs the trial's setups in no fixed order).
	 */
	@Setup(Level.Iteration)
	public void startWriter() {
		if ("none".equals(this.writer) || this.onboarding != null) {
			return;
		}
		if (!"1ms".equals(this.writer)) {
			throw new IllegalArgumentException("writer must be 'none' or '1ms', was '" + this.writer + "'");
		}
		TenantDirectory directory = this.switchboard.directory();
		Placement placement = directory.placement(TenantId.of(tenantName(0)));
		this.onboarding = Executors.newSingleThreadScheduledExecutor(task -> {
			Thread thread = new Thread(task, "directory-writer");
			thread.setDaemon(true);
			return thread;
		});
		this.onboarding.scheduleAtFixedRate(() -> directory
				.onboard(TenantId.of("churn-" + this.onboarded.incrementAndGet()), placement)
				.block(), 1, 1, TimeUnit.MILLISECONDS);
	}

	/**
	 * Stop the writer, and print how many tenants it onboarded.
	 * @throws InterruptedException if interrupted while waiting for it
	 */
	@TearDown(Level.Trial)
	public void stopWriter() throws InterruptedException {
		if (this.onboarding != null) {
			this.onboarding.shutdownNow();
			this.onboarding.awaitTermination(10, TimeUnit.SECONDS);
			System.out.println("directory writer: " + this.onboarded.get() + " tenants onboarded during the trial");
		}
	}
}
