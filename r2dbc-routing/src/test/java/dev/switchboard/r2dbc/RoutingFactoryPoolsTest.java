package dev.switchboard.r2dbc;

import java.util.List;

import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.test.MockConnection;
import io.r2dbc.spi.test.MockConnectionFactory;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * {@link RoutingConnectionFactory#pools()}: every target's pool, named by datasource, role and
 * replica index, with metrics that follow the pool, without keeping the datasources at hand.
 */
class RoutingFactoryPoolsTest {

	@Test
	void everyTargetOfEveryDataSourceIsListedInOrder() {
		try (RoutingConnectionFactory routing = routing()) {
			List<TargetPool> pools = routing.pools();

			assertThat(pools).extracting(TargetPool::name).containsExactly("orders/primary", "orders/replica-0",
					"orders/replica-1", "billing/primary");
			assertThat(pools).extracting(TargetPool::dataSource).containsExactly("orders", "orders", "orders", "billing");
			assertThat(pools).extracting(TargetPool::role).containsExactly(Role.PRIMARY, Role.REPLICA, Role.REPLICA,
					Role.PRIMARY);
			assertThat(pools).extracting(TargetPool::replicaIndex).containsExactly(-1, 0, 1, -1);
			assertThat(pools.get(0).metrics().getMaxAllocatedSize()).isEqualTo(3);
		}
	}

	@Test
	void theViewIsReadOnly() {
		try (RoutingConnectionFactory routing = routing()) {
			List<TargetPool> pools = routing.pools();

			assertThatThrownBy(() -> pools.remove(0)).isInstanceOf(UnsupportedOperationException.class);
			assertThatThrownBy(pools::clear).isInstanceOf(UnsupportedOperationException.class);
		}
	}

	@Test
	void theMetricsFollowThePoolsAsConnectionsComeAndGo() {
		try (RoutingConnectionFactory routing = routing()) {
			TargetPool primary = routing.pools().get(0);
			assertThat(primary.metrics().acquiredSize()).isZero();

			Connection connection = Mono.from(routing.create()).contextWrite(RoutingContext.forTenant("acme")).block();
			assertThat(primary.metrics().acquiredSize()).isEqualTo(1);
			assertThat(routing.pools().get(3).metrics().acquiredSize()).isZero();

			Mono.from(connection.close()).block();
			assertThat(primary.metrics().acquiredSize()).isZero();
			assertThat(primary.metrics().idleSize()).isEqualTo(1);
		}
	}

	/** One connection that passes the pool's validation, handed out again after each release. */
	private static MockConnectionFactory valid() {
		return MockConnectionFactory.builder().connection(MockConnection.builder().valid(true).build()).build();
	}

	private static RoutingConnectionFactory routing() {
		ReplicatedDataSource orders = ReplicatedDataSource.builder("orders")
				.primary(valid())
				.replica(valid())
				.replica(valid())
				.pool(pool -> pool.initialSize(0).maxSize(3))
				.build();
		ReplicatedDataSource billing = ReplicatedDataSource.builder("billing")
				.primary(valid()).build();
		return new RoutingConnectionFactory(TenantRegistry.builder().dataSource(orders).dataSource(billing)
				.tenant("acme", "orders").tenant("globex", "billing").build());
	}
}
