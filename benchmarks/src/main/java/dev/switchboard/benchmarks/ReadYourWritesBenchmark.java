package dev.switchboard.benchmarks;

import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.RoutingListener;
import dev.switchboard.r2dbc.TenantRegistry;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.jooq.impl.SQLDataType;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * Read-your-writes, pin against causal: each request inserts a row through Switchboard's routed
 * {@code DSLContext} and then selects it by its key, on the dev-db PostgreSQL primary and its
 * no-delay standby. With {@link ReadConsistency#PIN} the select goes to the primary; with
 * {@link ReadConsistency#CAUSAL} it goes to the standby once the standby has replayed the insert
 * (within the default 100 ms wait), else to the primary.
 *
 * <p>Scores are requests (insert and select) per second. The {@link Reads} counters tell where
 * the selects went: {@code replicaReads} and {@code primaryReads} per iteration, from a
 * {@link RoutingListener}. A select that does not find its row fails the benchmark. Servers:
 * {@code 127.0.0.1:55432} and {@code :55433}, or {@code SWITCHBOARD_PG_PRIMARY} and
 * {@code SWITCHBOARD_PG_REPLICA}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 6, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Threads(1)
@State(Scope.Benchmark)
public class ReadYourWritesBenchmark {

	static final int CONCURRENCY = 16;

	static final String TENANT = "bench";

	static final String DATASOURCE = "bench-ryw";

	static final Table<?> ITEM = DSL.table(DSL.name("bench_ryw"));

	static final Field<Long> ID = DSL.field(DSL.name("id"), SQLDataType.BIGINT);

	static final Field<String> NAME = DSL.field(DSL.name("name"), SQLDataType.VARCHAR(64));

	static final LongAdder REPLICA_READS = new LongAdder();

	static final LongAdder PRIMARY_READS = new LongAdder();

	/** How the reads after a write are served: {@code pin} or {@code causal}. */
	@Param({ "pin", "causal" })
	public String consistency;

	private final AtomicLong nextId = new AtomicLong();

	private ConnectionFactory server;

	private RoutingConnectionFactory routing;

	private DSLContext dsl;

	/**
	 * Create the table on the primary, wait for the standby to have it, build the routed context.
	 */
	@Setup(Level.Trial)
	public void setUp() throws InterruptedException {
		String primary = "r2dbc:postgresql://postgres@" + address("SWITCHBOARD_PG_PRIMARY", "127.0.0.1:55432") + "/switchboard";
		String replica = "r2dbc:postgresql://postgres@" + address("SWITCHBOARD_PG_REPLICA", "127.0.0.1:55433") + "/switchboard";
		this.server = ConnectionFactories.get(primary);
		DSLContext admin = DSL.using(this.server, SQLDialect.POSTGRES);
		run(admin.dropTableIfExists(ITEM));
		run(admin.query("CREATE TABLE bench_ryw (id bigint PRIMARY KEY, name varchar(64))"));
		DSLContext standby = DSL.using(ConnectionFactories.get(replica), SQLDialect.POSTGRES);
		for (int i = 0; Flux.from(standby.resultQuery("SELECT to_regclass('bench_ryw') IS NOT NULL"))
				.map(record -> record.get(0, Boolean.class)).blockLast(Duration.ofSeconds(5)) != Boolean.TRUE; i++) {
			if (i > 100) {
				throw new IllegalStateException("the standby did not replay CREATE TABLE bench_ryw in 5 s");
			}
			Thread.sleep(50);
		}
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder(DATASOURCE)
				.primary(primary)
				.replica(replica)
				.consistency(ReadConsistency.valueOf(this.consistency.toUpperCase(Locale.ROOT)))
				.pool(pool -> pool.initialSize(CONCURRENCY).maxSize(CONCURRENCY))
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(dataSource)
				.tenant(TENANT, DATASOURCE).build(), new RoutingListener() {
					@Override
					public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
						switch (reason) {
							case REPLICA, REPLICA_CAUSAL, REPLICA_FAILOVER -> REPLICA_READS.increment();
							case PRIMARY_PINNED, PRIMARY_CAUSAL, PRIMARY_NO_HEALTHY_REPLICA -> PRIMARY_READS.increment();
							default -> {
							}
						}
					}
				});
		this.dsl = RoutedDsl.builder(this.routing).dialect(DATASOURCE, SQLDialect.POSTGRES).build().dsl();
	}

	/**
	 * Drop the table and close the pools.
	 */
	@TearDown(Level.Trial)
	public void tearDown() {
		try {
			run(DSL.using(this.server, SQLDialect.POSTGRES).dropTableIfExists(ITEM));
		}
		finally {
			this.routing.close();
		}
	}

	/**
	 * Where the selects went in an iteration: counts, not rates.
	 */
	@State(Scope.Thread)
	@AuxCounters(AuxCounters.Type.EVENTS)
	public static class Reads {

		/** Selects served by the standby. */
		public long replicaReads;

		/** Selects served by the primary. */
		public long primaryReads;

		/**
		 * Start counting afresh.
		 */
		@Setup(Level.Iteration)
		public void reset() {
			REPLICA_READS.reset();
			PRIMARY_READS.reset();
			this.replicaReads = 0;
			this.primaryReads = 0;
		}

		void update() {
			this.replicaReads = REPLICA_READS.sum();
			this.primaryReads = PRIMARY_READS.sum();
		}
	}

	/**
	 * One request: insert a row, then read it back.
	 * @param reads the counters
	 * @return the row's name
	 */
	@Benchmark
	public String writeThenReadC1(Reads reads) {
		String name = request().block();
		reads.update();
		return name;
	}

	/**
	 * {@value #CONCURRENCY} requests at once.
	 * @param reads the counters
	 * @return the last row's name
	 */
	@Benchmark
	@OperationsPerInvocation(CONCURRENCY)
	public String writeThenReadC16(Reads reads) {
		String name = Flux.range(0, CONCURRENCY).flatMap(i -> request(), CONCURRENCY).blockLast();
		reads.update();
		return name;
	}

	private Mono<String> request() {
		long id = this.nextId.incrementAndGet();
		return Flux.from(this.dsl.insertInto(ITEM, ID, NAME).values(id, "row-" + id))
				.then(Flux.from(this.dsl.select(NAME).from(ITEM).where(ID.eq(id))).next())
				.map(record -> record.value1())
				.switchIfEmpty(Mono.error(() -> new IllegalStateException("row " + id + " not found after its insert")))
				.contextWrite(RoutingContext.forTenant(TENANT));
	}

	private static void run(Publisher<?> query) {
		Flux.from(query).blockLast(Duration.ofSeconds(30));
	}

	private static String address(String variable, String fallback) {
		String address = System.getenv(variable);
		return address != null && !address.isBlank() ? address : fallback;
	}
}
