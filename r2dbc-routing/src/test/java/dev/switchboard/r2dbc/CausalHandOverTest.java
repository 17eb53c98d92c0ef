package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.CausalToken;
import dev.switchboard.api.ReadConsistency;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.Fixtures;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.test.MockResult;
import io.r2dbc.spi.test.MockRow;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The hand-over of a causal read's replica connection when the replica has already replayed the
 * request's position: the wait ends inside its own subscription, before the code that started it
 * has stored it. That ending must not be taken for a cancel.
 */
class CausalHandOverTest {

	@Test
	void aWaitThatEndsBeforeItIsStoredHandsTheConnectionOverAndKeepsIt() {
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

			Connection reader = routing.create()
					.contextWrite(RoutingContext.intent(AccessIntent.READ))
					.contextWrite(context -> context.put(RoutingContext.class, request))
					.block(Duration.ofSeconds(5));

			assertThat(((RoutedConnection) reader).role()).isEqualTo(Role.REPLICA);
			assertThat(replica.sent).contains("SELECT pg_last_wal_replay_lsn()::text");
			assertThat(Fixtures.acquired(dataSource)).as("the reader's connection is still its own").isEqualTo(1);

			// The pool has one connection: a second reader gets none while the first holds it.
			AtomicReference<Connection> second = new AtomicReference<>();
			routing.create()
					.contextWrite(RoutingContext.intent(AccessIntent.READ))
					.contextWrite(context -> context.put(RoutingContext.class, request))
					.subscribe(second::set);
			assertThat(second.get()).as("handed out twice").isNull();

			Mono.from(reader.close()).block(Duration.ofSeconds(5));
			Await.until(Duration.ofSeconds(5), () -> second.get() != null);
			Mono.from(second.get().close()).block(Duration.ofSeconds(5));
			assertThat(Fixtures.acquired(dataSource)).isZero();
		}
	}
}
