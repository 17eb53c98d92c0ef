package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.CausalToken;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.test.MockResult;
import io.r2dbc.spi.test.MockRow;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A subscriber may cancel before it ever requests (Reactive Streams allows it): the routing
 * decision has taken the tenant's lease by then, and no connection will ever come to carry it
 * back. The lease must go back with the cancel, or an offboard of the tenant never completes.
 */
class LeaseCancelTest {

	@Test
	void aRoutedConnectionCancelledBeforeItsRequestReturnsItsLease() throws Exception {
		FakeDataSource pg = new FakeDataSource("pg-main");
		try (TenantDirectory directory = TenantDirectory.builder().dataSource(pg).tenant("acme", "pg-main").build()) {
			RoutingConnectionFactory routing = new RoutingConnectionFactory(directory);

			routing.create().contextWrite(RoutingContext.forTenant("acme")).subscribe(new CancelAtOnce());

			directory.offboard(TenantId.of("acme")).toFuture().get(1, TimeUnit.SECONDS);
		}
	}

	@Test
	void aCausalReadCancelledBeforeItsRequestReturnsItsLease() throws Exception {
		ScriptedConnection replica = new ScriptedConnection("PostgreSQL", sql -> MockResult.builder()
				.row(MockRow.builder().identified(0, String.class, "0/10").build())
				.build());
		try (ReplicatedDataSource dataSource = ReplicatedDataSource.builder("causal")
				.primary(new ScriptedConnection().factory())
				.replica(replica.factory())
				.consistency(ReadConsistency.CAUSAL)
				.causalWait(Duration.ofSeconds(1))
				// No probe round during the test: the replica's position stays unknown, so the read waits.
				.probeInterval(Duration.ofMinutes(1))
				.pool(pool -> pool.initialSize(0).maxSize(1))
				.build();
				RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
						.dataSource(dataSource)
						.tenant("acme", "causal")
						.build())) {
			RoutingContext request = RoutingContext.of(TenantId.of("acme"));
			request.pin().observe(CausalToken.of("causal", ReplicationPosition.parse("0/10")));

			routing.create()
					.contextWrite(RoutingContext.intent(AccessIntent.READ))
					.contextWrite(context -> context.put(RoutingContext.class, request))
					.subscribe(new CancelAtOnce());

			routing.directory().offboard(TenantId.of("acme")).toFuture().get(1, TimeUnit.SECONDS);
		}
	}

	/** Cancels in onSubscribe, before any request. */
	static final class CancelAtOnce extends BaseSubscriber<Connection> {

		@Override
		protected void hookOnSubscribe(Subscription subscription) {
			subscription.cancel();
		}

		@Override
		public Context currentContext() {
			return Context.empty();
		}
	}
}
