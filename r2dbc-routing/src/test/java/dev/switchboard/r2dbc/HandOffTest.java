package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.TimeoutException;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.Await;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.pool.PoolMetrics;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.test.MockConnection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How a routed acquisition meets a cancel, over a real r2dbc-pool of one connection: a cancel
 * never makes the pool hand out a connection its first borrower still holds, and a connection
 * that arrives after a cancel goes back to its pool.
 */
class HandOffTest {

	/** Hands out inert connections, each after {@link #delay}. */
	final Factory factory = new Factory();

	final ReplicatedDataSource dataSource = ReplicatedDataSource.builder("orders")
			.primary(this.factory)
			.pool(pool -> pool.initialSize(0).maxSize(1).maxAcquireTime(Duration.ofSeconds(5)))
			.build();

	final RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
			.dataSource(this.dataSource)
			.tenant("acme", "orders")
			.build());

	@AfterEach
	void close() {
		this.routing.close();
	}

	Mono<Connection> create() {
		return this.routing.create().contextWrite(RoutingContext.forTenant("acme"));
	}

	PoolMetrics metrics() {
		return this.dataSource.pool(this.dataSource.primary()).getMetrics().orElseThrow();
	}

	@Test
	void aSubscriberThatCancelsAfterTakingItsConnectionKeepsItToItself() {
		// The control: the plain pool takes the connection back and hands it out again.
		ConnectionPool plain = new ConnectionPool(ConnectionPoolConfiguration.builder(this.factory)
				.initialSize(0).maxSize(1).build());
		Connection held = Flux.from(plain.create()).next().block();
		Connection again = plain.create().timeout(Duration.ofMillis(200)).onErrorResume(ex -> Mono.empty()).block();
		System.out.printf("plain r2dbc-pool of one connection, first borrower cancelled after taking it: a second"
				+ " borrower %s the same connection%n", again != null && unwrap(again) == unwrap(held) ? "got" : "did not get");
		plain.dispose();

		Connection first = Flux.from(create()).next().block();

		StepVerifier.create(create().timeout(Duration.ofMillis(200)))
				.as("the one connection is still the first borrower's")
				.verifyError(TimeoutException.class);
		assertThat(metrics().acquiredSize()).isEqualTo(1);
		Mono.from(first.close()).block();
		// The second borrower's acquisition, cancelled by its timeout, takes the connection and closes it.
		Await.until(Duration.ofSeconds(5), () -> metrics().acquiredSize() == 0);
		Connection third = create().block(Duration.ofSeconds(5));
		assertThat(((RoutedConnection) third).unwrap()).isNotNull();
		Mono.from(third.close()).block();
	}

	@Test
	void aConnectionThatArrivesAfterTheCancelGoesBackToItsPool() {
		this.factory.delay = Duration.ofMillis(100);

		StepVerifier.create(create()).thenCancel().verify();

		Await.until(Duration.ofSeconds(5), () -> metrics().allocatedSize() == 1 && metrics().acquiredSize() == 0);
		this.factory.delay = Duration.ZERO;
		Connection next = create().block(Duration.ofSeconds(5));
		assertThat(metrics().allocatedSize()).as("the same connection, handed out once more").isEqualTo(1);
		Mono.from(next.close()).block();
	}

	@SuppressWarnings("unchecked")
	static Connection unwrap(Connection pooled) {
		return ((io.r2dbc.spi.Wrapped<Connection>) pooled).unwrap();
	}

	static final class Factory implements ConnectionFactory {

		volatile Duration delay = Duration.ZERO;

		@Override
		public Publisher<? extends Connection> create() {
			return Mono.defer(() -> {
				Mono<Connection> connection = Mono.fromSupplier(() -> MockConnection.builder().valid(true).build());
				return this.delay.isZero() ? connection : Mono.delay(this.delay).then(connection);
			});
		}

		@Override
		public ConnectionFactoryMetadata getMetadata() {
			return () -> "Factory";
		}
	}
}
