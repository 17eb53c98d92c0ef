package dev.switchboard.benchmarks;

import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.RoutedConnection;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

/**
 * The cost of one routing decision: subscribing to {@code create()} of a routing connection
 * factory reads the Reactor Context, looks the tenant up, applies the pin, picks a replica and
 * hands the target's connection to the subscriber.
 *
 * <p>The pools are replaced by {@link ReadyConnectionFactory ready factories}, so only routing
 * and the Reactor operators it needs are measured. Every datasource has a primary and two replicas
 * ({@link ReadyDataSource}); with {@link #dataSources} = {@value #PER_TENANT} each tenant has its
 * own, with a number the tenants share that many. Each invocation takes the next of
 * {@value #REQUESTS} request contexts built in advance, each a {@link RoutingContext} for a tenant
 * drawn at random from the registry and a declared {@link AccessIntent#READ}; the subscriber is
 * reused and reports that context as its own, so no {@code contextWrite} is measured. At most
 * {@value #REQUESTS} distinct tenants are touched, so with many tenants the numbers show the
 * lookup and the scattering of the registry over the heap, not a cold cache on every request.
 *
 * <ul>
 * <li>{@link #switchboard()}: Switchboard's {@link RoutingConnectionFactory} over a
 * {@link TenantRegistry}; the read goes to a replica.</li>
 * <li>{@link #spring()}: Spring's {@code AbstractRoutingConnectionFactory}
 * ({@link TenantRoutingConnectionFactory}) over a map of the same size and the same factories,
 * reading the tenant from the same contexts.</li>
 * <li>{@link #handOff()}: Switchboard's hand-off to the chosen target without the decision, to
 * split {@link #switchboard()} into the decision and the hand-off.</li>
 * <li>{@link #lookup()}: the registry lookup alone, no subscription.</li>
 * <li>{@link #baseline()}: subscribing to the chosen factory directly, without routing: the floor
 * that Reactor itself costs.</li>
 * </ul>
 * Run with {@code -prof gc} for the bytes allocated per decision ({@code gc.alloc.rate.norm}).
 * Eight warmup iterations, not three: on a busy two-core machine C2 needs from three to six
 * seconds to compile the Reactor path.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 8, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = { "-Xms1g", "-Xmx1g" })
@State(Scope.Thread)
public class RouteDecisionBenchmark {

	/** How many request contexts the invocations cycle through; a power of two. */
	static final int REQUESTS = 1024;

	/** How many tenants the registry and Spring's map hold. */
	@Param({ "10", "1000", "100000" })
	public int tenants;

	/**
	 * How the tenants are laid over datasources: {@value #PER_TENANT}, each tenant its own
	 * datasource (so a registry of 100,000 tenants routes to 300,000 targets), or a number of
	 * datasources that the tenants share round-robin, as when many tenants live in the schemas or
	 * databases of a few clusters. Separates what the tenant count costs from what the number of
	 * datasources, whose objects the decision reads after the lookup, costs.
	 */
	@Param({ PER_TENANT, "10" })
	public String dataSources;

	static final String PER_TENANT = "per-tenant";

	private TenantRegistry registry;

	/** Package-private for {@link DirectoryChurnBenchmark}, whose writer changes its directory. */
	RoutingConnectionFactory switchboard;

	private TenantRoutingConnectionFactory spring;

	private Context[] requests;

	private TenantId[] tenantIds;

	private DataSource[] expectedDataSources;

	private ConnectionFactory[] directTargets;

	private Mono<Connection>[] handOffs;

	private final Connection connection = ReadyConnectionFactory.inertConnection();

	private final ContextSubscriber subscriber = new ContextSubscriber();

	private int next;

	/**
	 * Build the registry, Spring's map and the request contexts, and check that both routers
	 * deliver a connection for every request.
	 */
	@Setup(Level.Trial)
	public void setUp() {
		int shared = sharedDataSources(this.dataSources);
		ReadyDataSource[] dataSources = new ReadyDataSource[this.tenants];
		TenantRegistry.Builder registry = TenantRegistry.builder();
		Map<TenantId, ConnectionFactory> springTargets = new HashMap<>();
		for (int i = 0; i < this.tenants; i++) {
			String name = tenantName(i);
			if (shared == 0) {
				dataSources[i] = new ReadyDataSource(name, 2, this.connection);
			}
			else {
				dataSources[i] = i < shared ? new ReadyDataSource("ds-" + i, 2, this.connection) : dataSources[i % shared];
			}
			registry.dataSource(dataSources[i]).tenant(name, dataSources[i].name());
			springTargets.put(TenantId.of(name), dataSources[i].replicas().get(0).connectionFactory());
		}
		this.registry = registry.build();
		this.switchboard = new RoutingConnectionFactory(this.registry);
		this.spring = new TenantRoutingConnectionFactory(springTargets);

		SplittableRandom random = new SplittableRandom(42);
		this.requests = new Context[REQUESTS];
		this.expectedDataSources = new DataSource[REQUESTS];
		this.tenantIds = new TenantId[REQUESTS];
		this.directTargets = new ConnectionFactory[REQUESTS];
		@SuppressWarnings("unchecked")
		Mono<Connection>[] handOffs = new Mono[REQUESTS];
		this.handOffs = handOffs;
		for (int r = 0; r < REQUESTS; r++) {
			int tenant = random.nextInt(this.tenants);
			// A fresh id, as a request parses it from a header: the lookup compares by value.
			TenantId id = TenantId.of(tenantName(tenant));
			this.tenantIds[r] = id;
			this.expectedDataSources[r] = dataSources[tenant];
			this.requests[r] = RoutingContext.intent(AccessIntent.READ)
					.apply(RoutingContext.forTenant(id).apply(Context.empty()));
			DataSource.Target replica = dataSources[tenant].replicas().get(0);
			this.directTargets[r] = replica.connectionFactory();
			this.handOffs[r] = this.switchboard.connect(replica, id);
		}
		verify();
	}

	private void verify() {
		for (int r = 0; r < REQUESTS; r++) {
			TenantId expected = RoutingContext.find(this.requests[r]).tenant();
			this.next = r;
			if (!(switchboard() instanceof RoutedConnection routed) || routed.role() != Role.REPLICA
					|| !routed.tenant().equals(expected)) {
				throw new IllegalStateException("Switchboard did not route request " + r + " to a replica of "
						+ expected, this.subscriber.failure);
			}
			this.next = r;
			if (spring() != this.connection) {
				throw new IllegalStateException("Spring did not route request " + r + " to " + expected,
						this.subscriber.failure);
			}
			this.next = r;
			if (!(handOff() instanceof RoutedConnection handed) || !handed.tenant().equals(expected)) {
				throw new IllegalStateException("no routed connection from the hand-off of request " + r,
						this.subscriber.failure);
			}
			this.next = r;
			if (lookup() != this.expectedDataSources[r]) {
				throw new IllegalStateException("the registry did not find the datasource of request " + r);
			}
			this.next = r;
			if (baseline() != this.connection) {
				throw new IllegalStateException("no connection from the target of request " + r);
			}
		}
		this.next = 0;
	}

	/**
	 * Fail the trial if any subscription ended in an error instead of a connection.
	 */
	@TearDown(Level.Trial)
	public void checkNoFailure() {
		if (this.subscriber.failure != null) {
			throw new IllegalStateException("a routing decision failed", this.subscriber.failure);
		}
	}

	/**
	 * One decision by Switchboard's {@link RoutingConnectionFactory}.
	 * @return the routed connection
	 */
	@Benchmark
	public @Nullable Connection switchboard() {
		return this.subscriber.receive(this.switchboard.create(), this.requests[nextRequest()]);
	}

	/**
	 * One decision by Spring's {@code AbstractRoutingConnectionFactory}.
	 * @return the connection of the tenant's target
	 */
	@Benchmark
	public @Nullable Connection spring() {
		return this.subscriber.receive(this.spring.create(), this.requests[nextRequest()]);
	}

	/**
	 * The registry's part of the decision alone: {@link TenantRegistry#getDataSource} for the
	 * request's tenant. The one step whose work depends on how many tenants there are.
	 * @return the tenant's datasource
	 */
	@Benchmark
	public @Nullable DataSource lookup() {
		return this.registry.getDataSource(this.tenantIds[nextRequest()]);
	}

	/**
	 * Switchboard's hand-off without the decision: subscribing to
	 * {@link RoutingConnectionFactory#connect} for the target the decision would have chosen, built
	 * in advance. What {@link #switchboard()} costs above this is the decision itself (context,
	 * registry, pin, replica pick); what this costs above {@link #baseline()} is the hand-off object
	 * that wraps the connection and classifies failures.
	 * @return the routed connection
	 */
	@Benchmark
	public @Nullable Connection handOff() {
		int request = nextRequest();
		return this.subscriber.receive(this.handOffs[request], this.requests[request]);
	}

	/**
	 * No decision: the subscription to the target that routing would have chosen.
	 * @return the connection of the target
	 */
	@Benchmark
	public @Nullable Connection baseline() {
		int request = nextRequest();
		return this.subscriber.receive(this.directTargets[request].create(), this.requests[request]);
	}

	private int nextRequest() {
		return this.next++ & (REQUESTS - 1);
	}

	/**
	 * Read the {@code dataSources} parameter.
	 * @param dataSources {@value #PER_TENANT} or a positive number
	 * @return how many datasources the tenants share, or 0 for one each
	 */
	static int sharedDataSources(String dataSources) {
		if (PER_TENANT.equals(dataSources)) {
			return 0;
		}
		if (dataSources.matches("[1-9][0-9]{0,8}")) {
			return Integer.parseInt(dataSources);
		}
		throw new IllegalArgumentException("dataSources must be '" + PER_TENANT + "' or a positive number, was '"
				+ dataSources + "'");
	}

	static String tenantName(int index) {
		return "tenant-" + index;
	}

	/**
	 * A reusable subscriber that reports a given context and keeps what it receives. Subscribing
	 * to a ready factory completes synchronously, so the connection is there when
	 * {@code subscribe} returns.
	 */
	private static final class ContextSubscriber implements CoreSubscriber<Connection> {

		private Context context = Context.empty();

		private @Nullable Connection received;

		@Nullable Throwable failure;

		@Nullable Connection receive(Publisher<? extends Connection> publisher, Context context) {
			this.context = context;
			this.received = null;
			publisher.subscribe(this);
			return this.received;
		}

		@Override
		public Context currentContext() {
			return this.context;
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			subscription.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Connection connection) {
			this.received = connection;
		}

		@Override
		public void onError(Throwable failure) {
			this.failure = failure;
		}

		@Override
		public void onComplete() {
		}
	}
}
