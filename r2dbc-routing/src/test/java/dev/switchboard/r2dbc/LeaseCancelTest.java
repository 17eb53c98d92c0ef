package dev.switchboard.r2dbc;

import java.util.concurrent.TimeUnit;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
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
