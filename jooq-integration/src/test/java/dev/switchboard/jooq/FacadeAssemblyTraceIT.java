package dev.switchboard.jooq;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.Record1;
import org.jooq.SQLDialect;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.reactivestreams.Publisher;
import reactor.core.Scannable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Hooks;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The routed {@code DSLContext}s hand jOOQ a connection publisher per statement that goes through
 * Reactor's assembly hooks, like routing's own publishers ({@code AssemblyTraceIT} in
 * r2dbc-routing): {@code Hooks.onEachOperator} sees it, and under {@code Hooks.onOperatorDebug()}
 * it carries the site that assembled it.
 */
@ExtendWith(DevDatabases.class)
class FacadeAssemblyTraceIT {

	private static final String HOOK = FacadeAssemblyTraceIT.class.getName();

	private final List<Publisher<?>> assembled = new CopyOnWriteArrayList<>();

	private RoutingConnectionFactory routing;

	private RoutedDsl routed;

	@BeforeEach
	void debug(Topology topology) {
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(Fixtures.dataSource("trace", topology.postgres(), 2))
				.tenant("acme", "trace")
				.build());
		this.routed = RoutedDsl.builder(this.routing).dialect("trace", SQLDialect.POSTGRES).build();
		Hooks.onEachOperator(HOOK, publisher -> {
			this.assembled.add(publisher);
			return publisher;
		});
		Hooks.onOperatorDebug();
	}

	@AfterEach
	void reset() {
		Hooks.resetOnOperatorDebug();
		Hooks.resetOnEachOperator(HOOK);
		this.routing.dispose();
	}

	@Test
	void thePlainDslsConnectionPublisherGoesThroughTheAssemblyHooks() {
		Integer one = Flux.from(this.routed.dsl().selectOne()).map(Record1::value1)
				.contextWrite(RoutingContext.forTenant("acme"))
				.blockLast();

		assertThat(one).isEqualTo(1);
		assertThat(this.assembled).anyMatch(FacadeAssemblyTraceIT::deferred);
	}

	@Test
	void theFacadesConnectionPublisherGoesThroughTheAssemblyHooks() {
		Integer one = this.routed.database().query(dsl -> dsl.selectOne()).map(Record1::value1)
				.contextWrite(RoutingContext.forTenant("acme"))
				.blockLast();

		assertThat(one).isEqualTo(1);
		assertThat(this.assembled).anyMatch(FacadeAssemblyTraceIT::deferred);
	}

	@Test
	void theConnectionPublisherCarriesTheSiteThatAssembledItUnderDebug() {
		Publisher<?> create = this.routed.dsl().configuration().connectionFactory().create();

		assertThat(Scannable.from(create).stepName()).contains(DeferredConnectionFactory.class.getName() + "$");
	}

	@Test
	void aRoutingFailureOfThePlainDslIsTracedThroughRouting() {
		Throwable failure = Flux.from(this.routed.dsl().selectOne()).then().materialize().block().getThrowable();

		assertThat(failure).isInstanceOf(DataError.class);
		assertThat(((DataError) failure).kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT);
		String trace = printed(failure);
		// Routing's publisher is seen by the hooks, and so is the deferred connection's step that routed.
		assertThat(trace).contains("Assembly trace from producer [dev.switchboard.r2dbc.RouteMono]");
		assertThat(trace).contains("dev.switchboard.jooq.RoutedExecution.assemble(");
	}

	/** One of the deferred connection factory's publishers, named or (before they were) anonymous. */
	private static boolean deferred(Publisher<?> publisher) {
		return publisher.getClass().getName().startsWith(DeferredConnectionFactory.class.getName() + "$");
	}

	private static String printed(Throwable failure) {
		StringWriter out = new StringWriter();
		failure.printStackTrace(new PrintWriter(out));
		return out.toString();
	}
}
