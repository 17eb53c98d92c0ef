package dev.switchboard.spring;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.switchboard.api.RoutingContext;
import dev.switchboard.jooq.RoutedDsl;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.pool.ConnectionPool;
import io.r2dbc.pool.ConnectionPoolConfiguration;
import io.r2dbc.spi.Connection;
import org.jooq.DSLContext;
import org.jooq.conf.Settings;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.connection.R2dbcTransactionManager;
import org.springframework.r2dbc.connection.TransactionAwareConnectionFactoryProxy;
import org.springframework.transaction.reactive.TransactionalOperator;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * jOOQ with a {@link RoutedDsl} the application built itself (for its own jOOQ settings) inside a
 * Spring transaction of the starter: it joins the transaction with no decorator, and so does one
 * wired through Spring's {@code TransactionAwareConnectionFactoryProxy} (which, over a view of the
 * routing factory, used to run on a separate autocommit connection: rolled-back rows stayed, the
 * jOOQ#16109 symptom). A failure after the first insert commits nothing, counted on the primary
 * with a plain connection. A control on a plain r2dbc-pool shows what Spring 7.0's proxy does to
 * the transaction's connection when the code inside closes it.
 */
@ExtendWith(DevDatabases.class)
class CustomRoutedDslIT {

	static final Topology topology = DevDatabases.topology();

	static ConfigurableApplicationContext context;

	/** Only auto-configuration: the starter's transaction manager and routing factory. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {
	}

	@BeforeAll
	static void start() {
		topology.createIdTable("custom_dsl_rows");
		Topology.Engine pg = topology.postgres();
		context = new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
				.properties(Map.of("switchboard.datasources.pg-main.primary", pg.url(pg.primary()),
						"switchboard.datasources.pg-main.replicas[0]", pg.url(pg.replica()),
						"switchboard.tenants.acme.datasource", "pg-main"))
				.run();
	}

	@AfterAll
	static void stop() {
		if (context != null) {
			context.close();
		}
	}

	static long committed(String id) {
		Topology.Engine pg = topology.postgres();
		return ((Number) Sql.query(pg.connectionFactory(pg.primary()),
				"SELECT count(*) AS n FROM custom_dsl_rows WHERE id LIKE $1", id + "%").get(0).get("n")).longValue();
	}

	static Mono<Integer> insert(DSLContext dsl, String id) {
		return Mono.from(dsl.insertInto(DSL.table("custom_dsl_rows")).columns(DSL.field("id", String.class)).values(id));
	}

	void aFailureAfterTheFirstInsertCommitsNothing(DSLContext dsl) {
		TransactionalOperator operator = context.getBean(TransactionalOperator.class);
		String id = "custom-" + UUID.randomUUID();

		StepVerifier.create(operator.transactional(insert(dsl, id + "-1").then(insert(dsl, id + "-2"))
						.then(Mono.error(new IllegalStateException("the work fails after its inserts"))))
						.contextWrite(RoutingContext.forTenant("acme")))
				.expectErrorMessage("the work fails after its inserts")
				.verify(Duration.ofSeconds(30));
		assertThat(committed(id)).as("rows committed by the rolled-back transaction").isZero();

		StepVerifier.create(operator.transactional(insert(dsl, id + "-3").then(insert(dsl, id + "-4")))
						.contextWrite(RoutingContext.forTenant("acme")))
				.expectNext(1)
				.verifyComplete();
		assertThat(committed(id)).as("the committed transaction's rows").isEqualTo(2);
	}

	@Test
	void aRoutedDslOfTheApplicationsOwnJoinsTheSpringTransaction() {
		RoutingConnectionFactory routing = context.getBean(RoutingConnectionFactory.class);
		DSLContext custom = RoutedDsl.builder(routing).settings(new Settings().withRenderFormatted(true)).build().dsl();

		aFailureAfterTheFirstInsertCommitsNothing(custom);
	}

	@Test
	void oneWiredThroughSpringsTransactionAwareProxyJoinsItToo() {
		RoutingConnectionFactory routing = context.getBean(RoutingConnectionFactory.class);
		DSLContext proxied = RoutedDsl.builder(routing)
				.connectionFactoryDecorator(TransactionAwareConnectionFactoryProxy::new)
				.build()
				.dsl();

		aFailureAfterTheFirstInsertCommitsNothing(proxied);
	}

	/**
	 * The control, without Switchboard: Spring 7.0's proxy inside an {@code R2dbcTransactionManager}
	 * transaction, whose connection the code inside closes. Printed, not asserted: it is Spring's
	 * behaviour, which Switchboard's path avoids by never counting a reference on the holder.
	 */
	@Test
	void controlSpringsOwnProxyOverAPlainPool() {
		Topology.Engine pg = topology.postgres();
		ConnectionPool pool = new ConnectionPool(ConnectionPoolConfiguration
				.builder(pg.connectionFactory(pg.primary())).maxSize(2).build());
		try {
			TransactionalOperator operator = TransactionalOperator.create(new R2dbcTransactionManager(pool));
			TransactionAwareConnectionFactoryProxy proxy = new TransactionAwareConnectionFactoryProxy(pool);
			String id = "control-" + UUID.randomUUID();
			Throwable outcome = operator.transactional(Flux.usingWhen(proxy.create(),
							connection -> Flux.from(connection.createStatement("INSERT INTO custom_dsl_rows (id) VALUES ($1)")
									.bind(0, id).execute()).flatMap(result -> result.getRowsUpdated()),
							Connection::close)
							.then())
					.then(Mono.<Throwable>empty())
					.onErrorResume(Mono::just)
					.block(Duration.ofSeconds(30));
			System.out.printf("control, Spring's TransactionAwareConnectionFactoryProxy over a plain pool: %s; rows"
					+ " committed %d%n", outcome == null ? "committed" : "failed: " + outcome, committed(id));
		}
		finally {
			pool.disposeLater().block(Duration.ofSeconds(10));
		}
	}
}
