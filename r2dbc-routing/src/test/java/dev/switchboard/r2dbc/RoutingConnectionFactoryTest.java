package dev.switchboard.r2dbc;

import java.util.List;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.test.MockConnection;
import io.r2dbc.spi.test.MockConnectionFactory;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The routing decision alone, over connection factories that hand out inert connections: which
 * target each subscription reaches, and which errors it gets.
 */
class RoutingConnectionFactoryTest {

	final StaticDataSource pg = new StaticDataSource("pg-main", 2);

	final StaticDataSource maria = new StaticDataSource("maria-main", 1);

	final RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
			.dataSource(this.pg)
			.dataSource(this.maria)
			.tenant("acme", "pg-main")
			.tenant("initech", "pg-main")
			.tenant("globex", "maria-main")
			.build());

	String targetOf(Mono<? extends Connection> connection) {
		return connection.map(c -> ((RoutedConnection) c).target().name()).block();
	}

	Mono<Connection> create() {
		return this.routing.create();
	}

	@Test
	void undeclaredIntentGoesToThePrimary() {
		assertThat(targetOf(create().contextWrite(RoutingContext.forTenant("acme")))).isEqualTo("pg-main/primary");
	}

	@Test
	void readsGoToReplicasRoundRobin() {
		Mono<Connection> read = create().contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant("acme"));

		assertThat(List.of(targetOf(read), targetOf(read), targetOf(read), targetOf(read)))
				.containsExactlyInAnyOrder("pg-main/replica-0", "pg-main/replica-1", "pg-main/replica-0", "pg-main/replica-1");
	}

	@Test
	void tenantsSharingADataSourceShareItsPools() {
		assertThat(targetOf(create().contextWrite(RoutingContext.forTenant("initech")))).isEqualTo("pg-main/primary");
		assertThat(targetOf(create().contextWrite(RoutingContext.forTenant("globex")))).isEqualTo("maria-main/primary");
	}

	@Test
	void aReadAfterAWriteInTheSameRequestGoesToThePrimary() {
		Mono<String> write = create().contextWrite(RoutingContext.intent(AccessIntent.WRITE)).map(this::name);
		Mono<String> read = create().contextWrite(RoutingContext.intent(AccessIntent.READ)).map(this::name);

		StepVerifier.create(write.concatWith(read).contextWrite(RoutingContext.forTenant("acme")))
				.expectNext("pg-main/primary", "pg-main/primary")
				.verifyComplete();
	}

	@Test
	void theRoutedConnectionNamesTenantAndRole() {
		RoutedConnection connection = (RoutedConnection) create().contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(RoutingContext.forTenant("globex")).block();

		assertThat(connection.tenant()).isEqualTo(TenantId.of("globex"));
		assertThat(connection.role()).isEqualTo(Role.REPLICA);
		assertThat(connection.unwrap()).isInstanceOf(MockConnection.class);
	}

	@Test
	void missingContextFailsWithoutTouchingAPool() {
		StepVerifier.create(create())
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT))
				.verify();
		assertThat(this.pg.creates + this.maria.creates).isZero();
	}

	@Test
	void unknownTenantFailsNamingTheTenant() {
		StepVerifier.create(create().contextWrite(RoutingContext.forTenant("hooli")))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.UNKNOWN_TENANT);
					assertThat(e.getMessage()).contains("'hooli'");
				}))
				.verify();
		assertThat(this.pg.creates + this.maria.creates).isZero();
	}

	@Test
	void defaultTenantServesPipelinesWithoutContextWhenConfigured() {
		RoutingConnectionFactory lenient = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(this.pg)
				.tenant("acme", "pg-main")
				.defaultTenant("acme")
				.build());

		assertThat(targetOf(lenient.create())).isEqualTo("pg-main/primary");
		assertThat(targetOf(Mono.from(lenient.create()).contextWrite(RoutingContext.intent(AccessIntent.READ))))
				.startsWith("pg-main/replica-");
	}

	@Test
	void insideATransactionEverythingGoesToThePrimary() {
		Mono<Connection> read = create().contextWrite(RoutingContext.intent(AccessIntent.READ))
				.contextWrite(TransactionBinding.bind(TenantId.of("acme"), this.pg))
				.contextWrite(RoutingContext.forTenant("acme"));

		assertThat(targetOf(read)).isEqualTo("pg-main/primary");
	}

	@Test
	void anotherTenantInsideATransactionIsARoutingConflict() {
		Mono<Connection> other = create()
				.contextWrite(RoutingContext.forTenant("globex"))
				.contextWrite(TransactionBinding.bind(TenantId.of("acme"), this.pg));

		StepVerifier.create(other)
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT);
					assertThat(e.getMessage()).contains("'globex'", "'acme'");
				}))
				.verify();
	}

	@Test
	void metadataOfOneEngineIsThatEngines() {
		assertThat(new RoutingConnectionFactory(TenantRegistry.builder().dataSource(this.pg).tenant("acme", "pg-main").build())
				.getMetadata().getName()).isEqualTo("MockConnectionFactory");
	}

	@Test
	void theListenerIsToldWhereAndWhy() {
		List<String> decisions = new java.util.concurrent.CopyOnWriteArrayList<>();
		RoutingConnectionFactory observed = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(this.pg).dataSource(this.maria).tenant("acme", "pg-main").build(), new RoutingListener() {
					@Override
					public void routed(reactor.util.context.ContextView context, TenantId tenant, DataSource.Target target,
							Reason reason) {
						decisions.add(tenant + " " + target.name() + " " + reason.tag());
					}

					@Override
					public void failed(reactor.util.context.ContextView context, DataError error) {
						decisions.add(error.kind().name());
					}
				});
		Mono<Connection> read = observed.create().contextWrite(RoutingContext.intent(AccessIntent.READ));
		Mono<Connection> write = observed.create();

		read.then(write).then(read).contextWrite(RoutingContext.forTenant("acme")).block();
		observed.create().contextWrite(RoutingContext.forTenant("hooli")).onErrorResume(e -> Mono.empty()).block();
		read.contextWrite(TransactionBinding.bind(TenantId.of("acme"), this.pg)).contextWrite(RoutingContext.forTenant("acme")).block();

		assertThat(decisions).containsExactly("acme pg-main/replica-0 replica", "acme pg-main/primary primary-write",
				"acme pg-main/primary primary-pinned", "UNKNOWN_TENANT", "acme pg-main/primary primary-transaction");
	}

	String name(Connection connection) {
		return ((RoutedConnection) connection).target().name();
	}

	/** A datasource whose targets hand out inert connections and count how often they are asked. */
	static final class StaticDataSource implements DataSource {

		final String name;

		final Target primary;

		final List<Target> replicas;

		int creates;

		int next;

		StaticDataSource(String name, int replicas) {
			this.name = name;
			this.primary = target(Role.PRIMARY, name + "/primary");
			this.replicas = java.util.stream.IntStream.range(0, replicas)
					.mapToObj(i -> target(Role.REPLICA, name + "/replica-" + i))
					.toList();
		}

		Target target(Role role, String targetName) {
			StaticDataSource owner = this;
			ConnectionFactory factory = MockConnectionFactory.builder().connection(MockConnection.empty()).build();
			ConnectionFactory counting = new ConnectionFactory() {
				@Override
				public Mono<Connection> create() {
					return Mono.defer(() -> {
						owner.creates++;
						return Mono.from(factory.create());
					});
				}

				@Override
				public io.r2dbc.spi.ConnectionFactoryMetadata getMetadata() {
					return factory.getMetadata();
				}
			};
			return new Target() {
				@Override
				public DataSource dataSource() {
					return owner;
				}

				@Override
				public Role role() {
					return role;
				}

				@Override
				public String name() {
					return targetName;
				}

				@Override
				public ConnectionFactory connectionFactory() {
					return counting;
				}
			};
		}

		@Override
		public String name() {
			return this.name;
		}

		@Override
		public Target primary() {
			return this.primary;
		}

		@Override
		public List<Target> replicas() {
			return this.replicas;
		}

		@Override
		public Target select(AccessIntent intent) {
			if (intent == AccessIntent.WRITE || this.replicas.isEmpty()) {
				return this.primary;
			}
			return this.replicas.get(this.next++ % this.replicas.size());
		}
	}
}
