package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The snapshot swap under contention: threads look tenants up (the routing path, the registry's
 * lookup, the raw tenancy) while others onboard, move and offboard tenants without pause. A lookup
 * never misses a tenant that was onboarded before it began and not offboarded until it ended, and
 * no lease is ever held on a tenancy whose drain has completed.
 */
class DirectorySnapshotConcurrencyTest {

	static final Duration RUN = Duration.ofSeconds(4);

	static final int STABLE = 20;

	static final int WRITERS = 2;

	static final int CHURN_PER_WRITER = 16;

	static final int READERS = 3;

	static final int LESSEES = 2;

	final FakeDataSource a = new FakeDataSource("a");

	final FakeDataSource b = new FakeDataSource("b");

	final TenantDirectory directory;

	final RoutingConnectionFactory routing;

	final TenantId[] churn = new TenantId[WRITERS * CHURN_PER_WRITER];

	/**
	 * Per churn tenant, changed only by its writer: odd while onboarded (the onboard completed and
	 * no offboard began), even otherwise. A lookup that reads the same odd value before and after
	 * itself ran wholly while the tenant was onboarded.
	 */
	final AtomicLongArray state = new AtomicLongArray(this.churn.length);

	/** Leases taken and not yet returned, by the lessee threads, per tenancy. */
	final Map<Tenancy, AtomicInteger> held = new ConcurrentHashMap<>();

	/** Tenancies whose retiring operation completed: drained. */
	final Map<Tenancy, Boolean> drained = new ConcurrentHashMap<>();

	final LongAdder lookups = new LongAdder();

	final LongAdder routed = new LongAdder();

	final LongAdder checked = new LongAdder();

	final LongAdder leases = new LongAdder();

	final LongAdder refused = new LongAdder();

	final LongAdder changes = new LongAdder();

	final List<String> violations = new CopyOnWriteArrayList<>();

	volatile boolean running = true;

	DirectorySnapshotConcurrencyTest() {
		TenantDirectoryBuilder builder = TenantDirectory.builder().dataSource(this.a).dataSource(this.b);
		for (int i = 0; i < STABLE; i++) {
			builder.tenant("stable-" + i, i % 2 == 0 ? "a" : "b");
		}
		this.directory = builder.build();
		this.routing = new RoutingConnectionFactory(this.directory);
		for (int i = 0; i < this.churn.length; i++) {
			this.churn[i] = TenantId.of("churn-" + i);
		}
	}

	@Test
	void noLookupMissesAnOnboardedTenantAndNoLeaseOutlivesADrain() throws Exception {
		List<Thread> threads = new ArrayList<>();
		for (int w = 0; w < WRITERS; w++) {
			int first = w * CHURN_PER_WRITER;
			threads.add(Thread.ofPlatform().name("writer-" + w).start(() -> write(first)));
		}
		for (int r = 0; r < READERS; r++) {
			threads.add(Thread.ofPlatform().name("reader-" + r).start(this::read));
		}
		for (int l = 0; l < LESSEES; l++) {
			threads.add(Thread.ofPlatform().name("lessee-" + l).start(this::lease));
		}
		Thread.sleep(RUN.toMillis());
		this.running = false;
		for (Thread thread : threads) {
			thread.join(10_000);
			assertThat(thread.isAlive()).as(thread.getName() + " ended").isFalse();
		}

		System.out.printf("directory under contention, %d s: %d changes, %d lookups (%d routed), %d checked "
				+ "while onboarded throughout, %d leases, %d refused by a drain, %d tenancies drained, %d violations%n",
				RUN.toSeconds(), this.changes.sum(), this.lookups.sum(), this.routed.sum(), this.checked.sum(),
				this.leases.sum(), this.refused.sum(), this.drained.size(), this.violations.size());
		assertThat(this.violations).isEmpty();
		assertThat(this.changes.sum()).isGreaterThan(1000);
		assertThat(this.checked.sum()).isGreaterThan(10_000);
		this.directory.dispose();
	}

	/** Onboard, move and offboard its own tenants, in random order, as fast as it can. */
	void write(int first) {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		while (this.running) {
			int i = first + random.nextInt(CHURN_PER_WRITER);
			TenantId tenant = this.churn[i];
			Tenancy current = this.directory.tenancy(tenant);
			if ((this.state.get(i) & 1) == 0) {
				this.directory.onboard(tenant, Placement.on(random.nextBoolean() ? "a" : "b")).block();
				this.state.incrementAndGet(i);
			}
			else if (random.nextBoolean()) {
				String to = current.placement.dataSource().equals("a") ? "b" : "a";
				this.directory.move(tenant, Placement.on(to)).block(Duration.ofSeconds(5));
				retired(current);
			}
			else {
				this.state.incrementAndGet(i);
				this.directory.offboard(tenant).block(Duration.ofSeconds(5));
				retired(current);
			}
			this.changes.increment();
		}
	}

	/** After a move or offboard completed: the tenancy it left has drained; no lease may be out. */
	void retired(Tenancy old) {
		this.drained.put(old, Boolean.TRUE);
		AtomicInteger out = this.held.get(old);
		if (out != null && out.get() != 0) {
			this.violations.add(out.get() + " lease(s) held on " + old + " after its drain completed");
		}
	}

	/** Look tenants up three ways; a churn tenant onboarded throughout must be found. */
	void read() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		int n = 0;
		while (this.running) {
			int way = n++ % 3;
			if (random.nextInt(4) == 0) {
				TenantId tenant = TenantId.of("stable-" + random.nextInt(STABLE));
				if (!found(tenant, way)) {
					this.violations.add("stable tenant " + tenant + " missed by lookup " + way);
				}
				continue;
			}
			int i = random.nextInt(this.churn.length);
			long before = this.state.get(i);
			boolean found = found(this.churn[i], way);
			long after = this.state.get(i);
			if ((before & 1) == 1 && before == after) {
				this.checked.increment();
				if (!found) {
					this.violations.add(this.churn[i] + " onboarded throughout (state " + before + ") missed by lookup "
							+ way);
				}
			}
		}
	}

	boolean found(TenantId tenant, int way) {
		this.lookups.increment();
		switch (way) {
			case 0 -> {
				Tenancy tenancy = this.directory.tenancy(tenant);
				return tenancy != null && !tenancy.isTombstone();
			}
			case 1 -> {
				return this.directory.getDataSource(tenant) != null;
			}
			default -> {
				this.routed.increment();
				try {
					RoutedConnection connection = (RoutedConnection) this.routing.create()
							.contextWrite(RoutingContext.forTenant(tenant))
							.block();
					if (this.drained.containsKey(connection.tenancy)) {
						this.violations.add("routed a connection on " + connection.tenancy + " after its drain");
					}
					Mono.from(connection.close()).block();
					return true;
				}
				catch (DataError ex) {
					if (ex.kind() != DataError.Kind.TENANT_OFFBOARDED && ex.kind() != DataError.Kind.UNKNOWN_TENANT) {
						this.violations.add(tenant + ": " + ex);
					}
					return false;
				}
			}
		}
	}

	/** Take leases on the tenancies the snapshot holds now, and return them soon after. */
	void lease() {
		ThreadLocalRandom random = ThreadLocalRandom.current();
		while (this.running) {
			Tenancy tenancy = this.directory.tenancy(this.churn[random.nextInt(this.churn.length)]);
			if (tenancy == null || tenancy.isTombstone()) {
				continue;
			}
			if (tenancy.lease() < 0) {
				this.refused.increment();
				continue;
			}
			this.leases.increment();
			AtomicInteger out = this.held.computeIfAbsent(tenancy, key -> new AtomicInteger());
			out.incrementAndGet();
			if (this.drained.containsKey(tenancy)) {
				this.violations.add("a lease succeeded on " + tenancy + " after its drain completed");
			}
			Thread.onSpinWait();
			out.decrementAndGet();
			tenancy.release();
		}
	}
}
