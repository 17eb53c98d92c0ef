package dev.switchboard.r2dbc;

import java.io.PrintWriter;
import java.io.StringWriter;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Routing's publishers go through Reactor's assembly hooks: with {@code Hooks.onOperatorDebug()},
 * a routing failure's trace names the routing publisher and the routing line that assembled it.
 * Reactor names as the assembly site the first frame outside its own packages, which is routing's
 * {@code assemble}, not the user's call; the user's line shows through the user's own operators
 * ({@code Flux.usingWhen ⇢ at ...}) whether or not routing's publishers are assembled, so the
 * tests assert the lines that only assembling them adds.
 */
@ExtendWith(DevDatabases.class)
class AssemblyTraceIT {

	private RoutingConnectionFactory routing;

	@BeforeEach
	void debug(Topology topology) {
		Hooks.onOperatorDebug();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(Fixtures.dataSource("trace", topology.postgres(), 2))
				.tenant("acme", "trace")
				.build());
	}

	@AfterEach
	void reset() {
		Hooks.resetOnOperatorDebug();
		this.routing.dispose();
	}

	@Test
	void aRoutingFailureIsTracedThroughTheRoutingPublisher() {
		Throwable failure = Flux.usingWhen(this.routing.create(), connection -> Mono.just(1), Connection::close)
				.then()
				.materialize().block().getThrowable();

		assertThat(failure).isInstanceOf(DataError.class);
		assertThat(((DataError) failure).kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT);
		String trace = printed(failure);
		// Routing's publisher is seen by the hooks, and the trace names the routing line that assembled it.
		assertThat(trace).contains("Assembly trace from producer [dev.switchboard.r2dbc.RouteMono]");
		assertThat(trace).contains("⇢ dev.switchboard.r2dbc.RouteMono.assemble(RouteMono.java:");
	}

	@Test
	void aStatementRefusedAfterItsConnectionsReleaseIsTracedThroughTheShield() {
		Throwable failure = Flux.usingWhen(this.routing.create(),
						connection -> Mono.from(connection.close())
								.thenMany(connection.createStatement("SELECT 1").execute()),
						connection -> Mono.empty())
				.contextWrite(RoutingContext.forTenant("acme"))
				.then()
				.materialize().block().getThrowable();

		assertThat(failure).isInstanceOf(DataError.class);
		String trace = printed(failure);
		assertThat(trace).contains("Assembly trace from producer [dev.switchboard.r2dbc.CancelShield$ShieldedResults]");
		assertThat(trace).contains("⇢ dev.switchboard.r2dbc.CancelShield$ShieldedResults.assemble(CancelShield.java:");
	}

	private static String printed(Throwable failure) {
		StringWriter out = new StringWriter();
		failure.printStackTrace(new PrintWriter(out));
		return out.toString();
	}
}
