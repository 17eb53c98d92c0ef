package dev.switchboard.r2dbc;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.test.MockConnection;
import io.r2dbc.spi.test.MockConnectionFactory;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplicatedDataSourceTest {

	static MockConnectionFactory factory() {
		return MockConnectionFactory.builder().connection(MockConnection.empty()).build();
	}

	@Test
	void poolsAreNamedAfterTheDataSourceAndRole() {
		try (ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders")
				.primary(factory()).replica(factory()).replica(factory()).build()) {
			assertThat(dataSource.primary().name()).isEqualTo("orders/primary");
			assertThat(dataSource.primary().role()).isEqualTo(Role.PRIMARY);
			assertThat(dataSource.replicas()).extracting(DataSource.Target::name)
					.containsExactly("orders/replica-0", "orders/replica-1");
			assertThat(dataSource.pool(dataSource.replicas().get(1))).isNotSameAs(dataSource.pool(dataSource.primary()));
		}
	}

	@Test
	void withoutReplicasReadsGoToThePrimary() {
		try (ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders").primary(factory()).build()) {
			assertThat(dataSource.select(AccessIntent.READ)).isSameAs(dataSource.primary());
			assertThat(dataSource.select(AccessIntent.WRITE)).isSameAs(dataSource.primary());
		}
	}

	@Test
	void roundRobinIsFairUnderContention() throws Exception {
		int threads = 8;
		int perThread = 300_000;
		try (ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders")
				.primary(factory()).replica(factory()).replica(factory()).replica(factory()).build()) {
			Map<String, LongAdder> counts = new ConcurrentHashMap<>();
			CountDownLatch start = new CountDownLatch(1);
			ExecutorService pool = Executors.newFixedThreadPool(threads);
			for (int t = 0; t < threads; t++) {
				pool.submit(() -> {
					start.await();
					for (int i = 0; i < perThread; i++) {
						counts.computeIfAbsent(dataSource.select(AccessIntent.READ).name(), k -> new LongAdder()).increment();
					}
					return null;
				});
			}
			start.countDown();
			pool.shutdown();
			assertThat(pool.awaitTermination(60, TimeUnit.SECONDS)).isTrue();

			// One shared counter hands out consecutive tickets: every replica gets exactly a third.
			assertThat(counts).containsOnlyKeys("orders/replica-0", "orders/replica-1", "orders/replica-2");
			assertThat(counts.values()).allSatisfy(count -> assertThat(count.sum()).isEqualTo(threads * perThread / 3));
		}
	}

	@Test
	void builderNamesTheBadSetting() {
		assertThatThrownBy(() -> ReplicatedDataSource.builder("bad name"))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageContaining("datasource name").hasMessageContaining("'bad name'");
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").build())
				.isInstanceOf(IllegalStateException.class).hasMessage("datasource 'orders' has no primary");
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").primary("r2dbc:nosuchdriver://user:secret@host/db"))
				.isInstanceOf(IllegalArgumentException.class)
				.hasMessageContaining("primary URL of datasource 'orders' is not usable")
				.hasMessageContaining("user:****@host")
				.hasMessageNotContaining("secret");
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders").replica(" "))
				.hasMessageContaining("replicas[0] URL of datasource 'orders' must not be blank");
	}

	@Test
	void aPortOutOfRangeIsRefusedNamingTheSettingAndTheValue() {
		assertRefusedByBuild(builder -> builder.primary("r2dbc:postgresql://postgres@127.0.0.1:99999/switchboard"),
				"primary URL of datasource 'orders'", "port", "99999");
		assertRefusedByBuild(builder -> builder.primary(factory())
				.replica("r2dbc:mysql://root@127.0.0.1:53307/switchboard")
				.replica("r2dbc:mysql://root@127.0.0.1:99999/switchboard"),
				"replicas[1] URL of datasource 'orders'", "port", "99999");
	}

	@Test
	void aNegativePortIsRefusedNamingTheSettingAndTheValue() {
		assertRefusedByBuild(builder -> builder.primary(factory())
				.replica("r2dbc:postgresql://postgres@127.0.0.1:-1/switchboard"),
				"replicas[0] URL of datasource 'orders'", "port", "-1");
	}

	@Test
	void aPortThatIsNotANumberIsRefusedNamingTheSettingAndTheValue() {
		assertRefusedByBuild(builder -> builder.primary("r2dbc:mysql://root@127.0.0.1:notaport/switchboard"),
				"primary URL of datasource 'orders'", "port", "notaport");
	}

	@Test
	void anEmptyHostIsRefusedNamingTheSetting() {
		assertRefusedByBuild(builder -> builder.primary("r2dbc:postgresql://postgres@:55432/switchboard"),
				"primary URL of datasource 'orders'", "host", "postgres@:55432");
		assertRefusedByBuild(builder -> builder.primary(factory()).replica("r2dbc:mysql://root@/switchboard"),
				"replicas[0] URL of datasource 'orders'", "host");
	}

	@Test
	void aRefusedUrlKeepsItsPasswordOutOfTheMessage() {
		assertRefusedByBuild(builder -> builder.primary("r2dbc:postgresql://postgres:secret@db1:70000/switchboard"),
				"primary URL of datasource 'orders'", "postgres:****@db1:70000");
		assertThatThrownBy(() -> ReplicatedDataSource.builder("orders")
				.primary("r2dbc:postgresql://postgres:secret@db1:70000/switchboard").build())
				.hasMessageNotContaining("secret");
	}

	@Test
	void aFactoryThatFailsWhilePooledIsReportedNamingTheSetting() {
		io.r2dbc.spi.ConnectionFactory broken = new io.r2dbc.spi.ConnectionFactory() {
			@Override
			public org.reactivestreams.Publisher<? extends io.r2dbc.spi.Connection> create() {
				throw new IllegalArgumentException("port out of range:99999");
			}

			@Override
			public io.r2dbc.spi.ConnectionFactoryMetadata getMetadata() {
				return () -> "broken";
			}
		};
		assertRefusedByBuild(builder -> builder.primary(factory()).replica(factory()).replica(broken),
				"replicas[1] of datasource 'orders' cannot be pooled", "port out of range:99999");
	}

	/**
	 * The URL must be refused by the builder, {@code build()} at the latest, with an
	 * {@code IllegalArgumentException} whose message holds every fragment: never built, so never
	 * a failure at the first connect.
	 */
	private static void assertRefusedByBuild(java.util.function.UnaryOperator<ReplicatedDataSource.Builder> configure,
			String... fragments) {
		ReplicatedDataSource[] built = { null };
		try {
			assertThatThrownBy(() -> built[0] = configure.apply(ReplicatedDataSource.builder("orders")).build())
					.isInstanceOf(IllegalArgumentException.class)
					.satisfies(error -> assertThat(error.getMessage()).contains(fragments));
		}
		finally {
			if (built[0] != null) {
				built[0].dispose();
			}
		}
	}

	@Test
	void disposingDisposesEveryPoolOnceAndKeepsEveryFailure() {
		AtomicInteger disposals = new AtomicInteger();
		ConnectionPool failing1 = new FailingPool(disposals, "replica-0 broke");
		ConnectionPool healthy = new CountingPool(disposals);
		ConnectionPool failing2 = new FailingPool(disposals, "replica-2 broke");
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders")
				.primary(new CountingPool(disposals)).replica(failing1).replica(healthy).replica(failing2).build();

		assertThatThrownBy(dataSource::dispose)
				.hasMessageContaining("orders/replica-0")
				.satisfies(error -> assertThat(error.getSuppressed())
						.anySatisfy(suppressed -> assertThat(suppressed).hasMessageContaining("orders/replica-2")));
		assertThat(disposals).hasValue(4);
		assertThat(healthy.isDisposed()).isTrue();

		// A second dispose replays the outcome and disposes nothing again.
		assertThatThrownBy(dataSource::dispose).hasMessageContaining("orders/replica-0");
		assertThat(disposals).hasValue(4);
		assertThat(dataSource.isDisposed()).isTrue();
	}

	static ConnectionPoolConfiguration configuration() {
		return ConnectionPoolConfiguration.builder(factory()).build();
	}

	static class CountingPool extends ConnectionPool {

		final AtomicInteger disposals;

		CountingPool(AtomicInteger disposals) {
			super(configuration());
			this.disposals = disposals;
		}

		@Override
		public Mono<Void> disposeLater() {
			return Mono.defer(() -> {
				this.disposals.incrementAndGet();
				return super.disposeLater();
			});
		}
	}

	static final class FailingPool extends CountingPool {

		final String message;

		FailingPool(AtomicInteger disposals, String message) {
			super(disposals);
			this.message = message;
		}

		@Override
		public Mono<Void> disposeLater() {
			return super.disposeLater().then(Mono.error(new IllegalStateException(this.message)));
		}
	}
}
