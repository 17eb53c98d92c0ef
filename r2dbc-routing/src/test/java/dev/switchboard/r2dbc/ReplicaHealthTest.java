package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.test.Await;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.R2dbcBadGrammarException;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.test.MockConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

/**
 * Replicas that refuse connections leave the rotation, reads fail over once, and the probe brings
 * them back: over connection factories that fail on demand, no server involved.
 */
class ReplicaHealthTest {

	final Switchable primary = new Switchable();

	final Switchable first = new Switchable();

	final Switchable second = new Switchable();

	final List<String> decisions = new CopyOnWriteArrayList<>();

	ReplicatedDataSource dataSource;

	RoutingConnectionFactory routing;

	void build(boolean fallBack) {
		this.dataSource = ReplicatedDataSource.builder("orders")
				.primary(this.primary).replica(this.first).replica(this.second)
				.probeInterval(Duration.ofMillis(20))
				.readsFallBackToPrimary(fallBack)
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(this.dataSource)
				.tenant("acme", "orders").build(), new RoutingListener() {
					@Override
					public void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
						ReplicaHealthTest.this.decisions.add(target.name() + " " + reason.tag());
					}
				});
	}

	@AfterEach
	void close() {
		this.routing.close();
	}

	String read() {
		return this.routing.create()
				.flatMap(connection -> Mono.from(connection.close()).thenReturn(((RoutedConnection) connection).target().name()))
				.contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant("acme"))
				.block(Duration.ofSeconds(5));
	}

	@Test
	void aReadWhoseReplicaRefusesGoesOnceToTheNextAndTheReplicaLeavesTheRotation() {
		build(true);
		this.first.down = true;
		this.second.down = false;

		List<String> served = List.of(read(), read(), read(), read());

		assertThat(served).containsOnly("orders/replica-1");
		assertThat(this.dataSource.status(this.dataSource.replicas().get(0)).up()).isFalse();
		assertThat(this.decisions).contains("orders/replica-1 replica-failover");
		assertThat(this.decisions.stream().filter(decision -> decision.startsWith("orders/replica-0")))
				.as("the refused replica is not chosen again while it is out").hasSize(1);
	}

	@Test
	void whenEveryReplicaIsOutReadsGoToThePrimary() {
		build(true);
		this.first.down = true;
		this.second.down = true;

		assertThatExceptionOfType(DataError.class).as("one failover only: both replicas refused this read")
				.isThrownBy(this::read).extracting(DataError::kind).isEqualTo(DataError.Kind.TRANSIENT);
		assertThat(read()).isEqualTo("orders/primary");
		assertThat(this.decisions).contains("orders/primary primary-no-healthy-replica");
	}

	@Test
	void withoutFallBackAReadFailsWithNoHealthyTarget() {
		build(false);
		this.first.down = true;
		this.second.down = true;

		assertThatExceptionOfType(DataError.class).isThrownBy(this::read);
		assertThatExceptionOfType(DataError.class).isThrownBy(this::read)
				.satisfies(error -> {
					assertThat(error.kind()).isEqualTo(DataError.Kind.NO_HEALTHY_TARGET);
					assertThat(error.dataSource()).isEqualTo("orders");
				});
		assertThat(this.decisions).as("the primary serves no read").noneMatch(decision -> decision.contains("primary"));
	}

	@Test
	void theProbeBringsAReplicaBackWhenItAnswersAgain() {
		build(true);
		this.first.down = true;
		read();
		read();
		DataSource.Target replica = this.dataSource.replicas().get(0);
		assertThat(this.dataSource.status(replica).up()).isFalse();

		this.first.down = false;
		Await.until(Duration.ofSeconds(5), () -> this.dataSource.status(replica).up());

		assertThat(List.of(read(), read())).contains("orders/replica-0");
	}

	@Test
	void aFailedStatementDoesNotTakeAServerOutButALostConnectionDoes() {
		build(true);
		DataSource.Target replica = this.dataSource.replicas().get(0);

		assertThat(replica.reportFailure(new R2dbcBadGrammarException("syntax", "42601", 0))).isFalse();
		assertThat(this.dataSource.status(replica).available()).isTrue();

		assertThat(replica.reportFailure(new R2dbcNonTransientResourceException("closed"))).isTrue();
		assertThat(this.dataSource.status(replica).available()).isFalse();
	}

	@Test
	void aProbeRoundThatBeganBeforeAFailureDoesNotBringTheServerBack() {
		Gated gated = new Gated();
		ReplicatedDataSource alone = ReplicatedDataSource.builder("gated")
				.primary(this.primary).replica(gated)
				.probeInterval(Duration.ofMillis(50))
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(alone).build());
		DataSource.Target replica = alone.replicas().get(0);
		replica.reportFailure(new R2dbcNonTransientResourceException("closed"));
		Await.until(Duration.ofSeconds(5), () -> gated.waiting.get() == 1);

		// A request loses its connection while the round that will answer "valid" is under way.
		replica.reportFailure(new R2dbcNonTransientResourceException("closed"));
		gated.openOne();
		// Rounds run one at a time: once the next one waits, the first has ended. A round that
		// wrongly brought the server back would leave no next round to wait for.
		Await.until(Duration.ofSeconds(5), () -> gated.waiting.get() == 2 || alone.status(replica).up());
		assertThat(gated.answered.get()).isEqualTo(1);
		assertThat(alone.status(replica).up()).as("the round's answer predates the failure").isFalse();

		// The next round began after the failure: its answer counts.
		gated.openOne();
		Await.until(Duration.ofSeconds(5), () -> alone.status(replica).up());
	}

	/**
	 * Hands out connections whose remote validation waits, each until {@link #openOne()} lets it
	 * answer: probe rounds that are under way, released one at a time.
	 */
	static final class Gated implements ConnectionFactory {

		/** How many remote validations began. */
		final java.util.concurrent.atomic.AtomicInteger waiting = new java.util.concurrent.atomic.AtomicInteger();

		/** How many answered. */
		final java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();

		final java.util.Queue<reactor.core.publisher.Sinks.One<Boolean>> gates =
				new java.util.concurrent.ConcurrentLinkedQueue<>();

		/** Let the oldest waiting validation answer "valid". */
		void openOne() {
			reactor.core.publisher.Sinks.One<Boolean> gate = this.gates.poll();
			if (gate == null) {
				throw new AssertionError("no validation is waiting");
			}
			gate.tryEmitValue(true);
		}

		private Mono<Boolean> remoteValidation() {
			return Mono.defer(() -> {
				reactor.core.publisher.Sinks.One<Boolean> gate = reactor.core.publisher.Sinks.one();
				this.gates.add(gate);
				this.waiting.incrementAndGet();
				return gate.asMono();
			}).doOnNext(valid -> this.answered.incrementAndGet());
		}

		@Override
		public Publisher<? extends Connection> create() {
			return Mono.fromSupplier(() -> (Connection) java.lang.reflect.Proxy.newProxyInstance(
					Connection.class.getClassLoader(), new Class<?>[] { Connection.class },
					(proxy, method, args) -> switch (method.getName()) {
						case "validate" -> args[0] == io.r2dbc.spi.ValidationDepth.LOCAL ? Mono.just(true)
								: remoteValidation();
						case "isAutoCommit" -> true;
						case "toString" -> "gated";
						case "hashCode" -> System.identityHashCode(proxy);
						case "equals" -> proxy == args[0];
						default -> Mono.empty();
					}));
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return () -> "Gated";
		}
	}

	/** A connection factory that refuses connections while {@link #down} is set. */
	static final class Switchable implements ConnectionFactory {

		volatile boolean down;

		@Override
		public Publisher<? extends Connection> create() {
			return Mono.defer(() -> {
				return this.down ? Mono.error(new R2dbcNonTransientResourceException("Connection refused"))
						: Mono.just(MockConnection.builder().valid(true).build());
			});
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return () -> "Switchable";
		}
	}
}
