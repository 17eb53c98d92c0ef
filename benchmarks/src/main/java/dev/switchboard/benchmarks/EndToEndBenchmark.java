package dev.switchboard.benchmarks;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.ReactorSubscriberProvider;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Record1;
import org.jooq.SQLDialect;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.jooq.impl.DefaultConfiguration;
import org.jooq.impl.SQLDataType;
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
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.util.context.Context;

/**
 * jOOQ statements end to end against the PostgreSQL primary of the dev-db topology: a primary-key
 * {@code SELECT} and a one-row {@code INSERT}, one at a time and 64 at once.
 *
 * <p>Five {@link #variant variants} run the same statements; only the entry point differs:
 * <ul>
 * <li>{@code direct}: jOOQ on a plain r2dbc-pool {@code ConnectionPool}, no routing;</li>
 * <li>{@code routed}: Switchboard's {@link RoutedDsl#dsl()} over a registry whose one tenant's
 * datasource is that primary alone; statements declare no intent, so they go to the primary (the
 * select is inferred a read, and the datasource has no replica);</li>
 * <li>{@code facade}: the same registry through {@link TenantDatabase#query} for the select and
 * {@link TenantDatabase#execute} for the insert, which infer the intent from the query;</li>
 * <li>{@code declared}: the same through {@link TenantDatabase#read} for the select and
 * {@link TenantDatabase#write} for the insert, which declare it;</li>
 * <li>{@code spring}: jOOQ over Spring's {@code AbstractRoutingConnectionFactory}
 * ({@link TenantRoutingConnectionFactory}) routing that tenant to a pool of that primary, with
 * {@link ReactorSubscriberProvider} installed so that the Reactor Context reaches it.</li>
 * </ul>
 * Each variant has one pool of {@value #POOL_SIZE} connections with the same settings (the routed
 * one also has {@code ReplicatedDataSource}'s own pre-release reset, a no-op in autocommit). Every
 * pipeline is one request: it writes a fresh {@link RoutingContext} for the tenant (in all three
 * variants, so that they do the same work) and blocks until its statement completes. The
 * {@code C64} methods run {@value #CONCURRENCY} such pipelines at once with {@code flatMap} and
 * count as {@value #CONCURRENCY} operations, so every score is in statements per second.
 *
 * <p>{@link #setUp()} creates {@code bench_item} and seeds it with {@value #SEED_ROWS} rows;
 * inserts use fresh ids from {@value #FIRST_INSERT_ID} up; {@link #tearDown()} drops the table.
 * The server is {@code 127.0.0.1:55432}, or {@code SWITCHBOARD_PG_PRIMARY=host:port}. Iterations
 * last two seconds, and warmup takes sixteen: jOOQ, the driver and Netty take ten seconds and more
 * to settle on two busy cores.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 8, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@Threads(1)
@State(Scope.Benchmark)
public class EndToEndBenchmark {

	/** How many pipelines the {@code C64} methods run at once. */
	static final int CONCURRENCY = 64;

	/** The size of each variant's pool, created up front. */
	static final int POOL_SIZE = 16;

	/** How many rows the table starts with; selects read ids 1 to this. */
	static final int SEED_ROWS = 1000;

	/** The first id that inserts use. */
	static final long FIRST_INSERT_ID = 1_000_000;

	static final String TENANT = "bench";

	static final String DATASOURCE = "bench-pg";

	static final Table<?> ITEM = DSL.table(DSL.name("bench_item"));

	static final Field<Long> ID = DSL.field(DSL.name("id"), SQLDataType.BIGINT);

	static final Field<String> NAME = DSL.field(DSL.name("name"), SQLDataType.VARCHAR(64));

	/**
	 * Which entry point runs the statements: {@code direct}, {@code routed}, {@code facade},
	 * {@code declared} or {@code spring}.
	 */
	@Param({ "direct", "routed", "spring", "facade", "declared" })
	public String variant;

	private final Function<Context, Context> request = RoutingContext.forTenant(TENANT);

	private final AtomicLong nextSelect = new AtomicLong();

	private final AtomicLong nextInsert = new AtomicLong(FIRST_INSERT_ID);

	private ConnectionFactory server;

	private DSLContext dsl;

	/** The facade of the {@code facade} and {@code declared} variants, else {@code null}. */
	private TenantDatabase database;

	private Disposable resources;

	/**
	 * Create and seed the table, build the variant's pool and context, fill the pool, and check
	 * that a select returns the seeded row.
	 */
	@Setup(Level.Trial)
	public void setUp() {
		this.server = ConnectionFactories.get("r2dbc:postgresql://postgres@" + serverAddress() + "/switchboard");
		DSLContext admin = DSL.using(this.server, SQLDialect.POSTGRES);
		run(admin.dropTableIfExists(ITEM));
		run(admin.query("CREATE TABLE bench_item (id bigint PRIMARY KEY, name varchar(64))"));
		run(admin.query("INSERT INTO bench_item (id, name) SELECT g, 'item-' || g FROM generate_series(1, "
				+ SEED_ROWS + ") g"));

		switch (this.variant) {
			case "direct" -> {
				ConnectionPool pool = pool("bench-direct");
				this.dsl = DSL.using(pool, SQLDialect.POSTGRES);
				this.resources = pool;
				pool.warmup().block();
			}
			case "routed", "facade", "declared" -> {
				ReplicatedDataSource dataSource = ReplicatedDataSource.builder(DATASOURCE)
						.primary(this.server)
						.pool(EndToEndBenchmark::configure)
						.build();
				RoutingConnectionFactory routing = new RoutingConnectionFactory(
						TenantRegistry.builder().dataSource(dataSource).tenant(TENANT, DATASOURCE).build());
				RoutedDsl routed = RoutedDsl.builder(routing).dialect(DATASOURCE, SQLDialect.POSTGRES).build();
				this.dsl = routed.dsl();
				this.database = "routed".equals(this.variant) ? null : routed.database();
				this.resources = routing;
				dataSource.pool(dataSource.primary()).warmup().block();
			}
			case "spring" -> {
				ConnectionPool pool = pool("bench-spring");
				TenantRoutingConnectionFactory spring = new TenantRoutingConnectionFactory(Map.of(TenantId.of(TENANT), pool));
				this.dsl = DSL.using(new DefaultConfiguration()
						.set(spring)
						.set(SQLDialect.POSTGRES)
						.set(ReactorSubscriberProvider.INSTANCE));
				this.resources = pool;
				pool.warmup().block();
			}
			default -> throw new IllegalArgumentException(
					"variant must be direct, routed, spring, facade or declared, was " + this.variant);
		}
		Record1<String> first = Flux.from(select(1L))
				.contextWrite(this.request)
				.blockLast(Duration.ofSeconds(10));
		if (first == null || !"item-1".equals(first.value1())) {
			throw new IllegalStateException(this.variant + ": the seeded row 1 was not found, got " + first);
		}
	}

	/**
	 * Drop the table and close the variant's pool.
	 */
	@TearDown(Level.Trial)
	public void tearDown() {
		try {
			run(DSL.using(this.server, SQLDialect.POSTGRES).dropTableIfExists(ITEM));
		}
		finally {
			this.resources.dispose();
		}
	}

	/**
	 * One primary-key select.
	 * @return the selected record
	 */
	@Benchmark
	public Record1<String> selectC1() {
		return Flux.from(select()).contextWrite(this.request).blockLast();
	}

	/**
	 * {@value #CONCURRENCY} primary-key selects at once, each in its own pipeline.
	 * @return the last record received
	 */
	@Benchmark
	@OperationsPerInvocation(CONCURRENCY)
	public Record1<String> selectC64() {
		return Flux.range(0, CONCURRENCY)
				.flatMap(i -> Flux.from(select()).contextWrite(this.request), CONCURRENCY)
				.blockLast();
	}

	/**
	 * One single-row insert.
	 * @return the update count
	 */
	@Benchmark
	public Integer insertC1() {
		return Flux.from(insert()).contextWrite(this.request).blockLast();
	}

	/**
	 * {@value #CONCURRENCY} single-row inserts at once, each in its own pipeline.
	 * @return the last update count received
	 */
	@Benchmark
	@OperationsPerInvocation(CONCURRENCY)
	public Integer insertC64() {
		return Flux.range(0, CONCURRENCY)
				.flatMap(i -> Flux.from(insert()).contextWrite(this.request), CONCURRENCY)
				.blockLast();
	}

	private Publisher<Record1<String>> select() {
		return select(1 + Math.floorMod(this.nextSelect.getAndIncrement(), SEED_ROWS));
	}

	private Publisher<Record1<String>> select(long id) {
		return switch (this.variant) {
			case "facade" -> this.database.query(dsl -> dsl.select(NAME).from(ITEM).where(ID.eq(id)));
			case "declared" -> this.database.read(dsl -> dsl.select(NAME).from(ITEM).where(ID.eq(id)));
			default -> this.dsl.select(NAME).from(ITEM).where(ID.eq(id));
		};
	}

	private Publisher<Integer> insert() {
		long id = this.nextInsert.getAndIncrement();
		return switch (this.variant) {
			case "facade" -> this.database.execute(dsl -> dsl.insertInto(ITEM, ID, NAME).values(id, "bench"));
			case "declared" -> this.database.write(dsl -> dsl.insertInto(ITEM, ID, NAME).values(id, "bench"));
			default -> this.dsl.insertInto(ITEM, ID, NAME).values(id, "bench");
		};
	}

	private ConnectionPool pool(String name) {
		ConnectionPoolConfiguration.Builder configuration = ConnectionPoolConfiguration.builder(this.server)
				.name(name)
				// The two limits that ReplicatedDataSource sets before its customizer.
				.maxAcquireTime(Duration.ofSeconds(5))
				.maxCreateConnectionTime(Duration.ofSeconds(5));
		configure(configuration);
		return new ConnectionPool(configuration.build());
	}

	private static void configure(ConnectionPoolConfiguration.Builder pool) {
		pool.initialSize(POOL_SIZE).maxSize(POOL_SIZE);
	}

	private static void run(Publisher<?> query) {
		Flux.from(query).blockLast(Duration.ofSeconds(30));
	}

	private static String serverAddress() {
		String address = System.getenv("SWITCHBOARD_PG_PRIMARY");
		return address != null && !address.isBlank() ? address : "127.0.0.1:55432";
	}
}
