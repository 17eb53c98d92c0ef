package example;

import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryOptions;
import dev.switchboard.api.RoutingContext;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.webtestclient.autoconfigure.AutoConfigureWebTestClient;
import org.springframework.test.web.reactive.server.WebTestClient;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Starts the application as built under Boot's parent, then asks it what a user would. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@AutoConfigureWebTestClient
class ApplicationTest {

	@Autowired
	WebTestClient web;

	@Autowired
	Application.Ledger ledger;

	@Test
	void healthIsUpWithBootsDataR2dbcOnTheClassPath() {
		this.web.get().uri("/actuator/health").exchange()
				.expectStatus().isOk()
				.expectBody()
				.jsonPath("$.status").isEqualTo("UP")
				.jsonPath("$.components.switchboard.status").isEqualTo("UP")
				.jsonPath("$.components.r2dbc").doesNotExist();
	}

	@Test
	void transactionalRollsBackTheInsertBeforeAFailure() {
		this.ledger.createTable().block();
		assertThatThrownBy(() -> this.ledger.insertThenFail("rolled-back")
				.contextWrite(RoutingContext.forTenant("acme")).block())
				.hasMessageContaining("fails after the insert");
		// Counted on a connection of its own, outside Switchboard and Spring.
		ConnectionFactory plain = ConnectionFactories.get(ConnectionFactoryOptions
				.parse("r2dbc:h2:mem:///bootparent;DB_CLOSE_DELAY=-1").mutate()
				.option(ConnectionFactoryOptions.USER, "sa")
				.option(ConnectionFactoryOptions.PASSWORD, "p@ss/w0rd#1").build());
		Long rows = Mono.usingWhen(plain.create(),
				connection -> Flux.from(connection.createStatement("SELECT COUNT(*) FROM boot_parent_ledger WHERE id = 'rolled-back'")
						.execute()).flatMap(result -> result.map(row -> row.get(0, Long.class))).next(),
				connection -> connection.close()).block();
		assertThat(rows).isZero();
	}
}
