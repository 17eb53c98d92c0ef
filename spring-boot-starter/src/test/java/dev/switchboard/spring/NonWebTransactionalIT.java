package dev.switchboard.spring;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.aop.support.AopUtils;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Import;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A non-web application of the starter alone (no {@code @EnableTransactionManagement}, no web
 * filter): the caller of a {@code @Transactional} method writes the tenant with
 * {@code .contextWrite(RoutingContext.forTenant(...))} outside the call, and a method that fails
 * after its first write commits nothing, on both engines. Rows are counted on each primary through
 * a plain unpooled connection, outside Switchboard.
 */
@ExtendWith(DevDatabases.class)
class NonWebTransactionalIT {

	static final Topology topology = DevDatabases.topology();

	static ConfigurableApplicationContext context;

	static Ledger ledger;

	/** A plain Boot application: only auto-configuration, as a batch job or a consumer would have. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	@Import(Ledger.class)
	static class LedgerApplication {
	}

	/** A service as users write them, with Spring's own {@code DatabaseClient}. */
	@Service
	static class Ledger {

		private final DatabaseClient client;

		Ledger(DatabaseClient client) {
			this.client = client;
		}

		/** Writes the row, then the same key again: the second insert fails after the first. */
		@Transactional
		public Mono<Void> recordTwice(String id) {
			return insert(id).then(insert(id));
		}

		/** Writes two rows. */
		@Transactional
		public Mono<Void> recordPair(String id) {
			return insert(id + "-a").then(insert(id + "-b"));
		}

		/** The mistake the pattern avoids: the tenant written inside the transactional method. */
		@Transactional
		public Mono<Void> recordWithTheTenantInside(String id, String tenant) {
			return insert(id).contextWrite(RoutingContext.forTenant(tenant));
		}

		private Mono<Void> insert(String id) {
			return this.client.sql("INSERT INTO tx_ledger (id) VALUES (:id)").bind("id", id).then();
		}
	}

	@BeforeAll
	static void start() {
		topology.createIdTable("tx_ledger");
		Topology.Engine pg = topology.postgres();
		Topology.Engine maria = topology.mariadb();
		context = new SpringApplicationBuilder(LedgerApplication.class).web(WebApplicationType.NONE)
				.properties(Map.of("switchboard.datasources.pg-main.primary", pg.url(pg.primary()),
						"switchboard.datasources.pg-main.replicas[0]", pg.url(pg.replica()),
						"switchboard.datasources.maria-main.primary", maria.url(maria.primary()),
						"switchboard.datasources.maria-main.replicas[0]", maria.url(maria.replica()),
						"switchboard.datasources.maria-main.dialect", "MARIADB",
						"switchboard.tenants.acme.datasource", "pg-main",
						"switchboard.tenants.globex.datasource", "maria-main"))
				.run();
		ledger = context.getBean(Ledger.class);
	}

	@AfterAll
	static void stop() {
		if (context != null) {
			context.close();
		}
	}

	static String tenantOn(Topology.Kind kind) {
		return kind == Topology.Kind.POSTGRESQL ? "acme" : "globex";
	}

	static long committedRows(Topology.Kind kind, String idPrefix) {
		Topology.Engine engine = topology.engine(kind);
		Object count = Sql.query(engine.connectionFactory(engine.primary()),
				"SELECT count(*) AS n FROM tx_ledger WHERE id LIKE " + kind.placeholder(), idPrefix + "%")
				.get(0).get("n");
		return ((Number) count).longValue();
	}

	@Test
	void theStarterAloneMakesTransactionalMethodsTransactional() {
		assertThat(AopUtils.isAopProxy(ledger)).as("@Transactional needs Boot's TransactionAutoConfiguration").isTrue();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aTransactionalMethodThatFailsAfterItsFirstWriteCommitsNothing(Topology.Kind kind) {
		String id = "ledger-" + UUID.randomUUID();

		StepVerifier.create(ledger.recordTwice(id).contextWrite(RoutingContext.forTenant(tenantOn(kind))))
				.expectErrorSatisfies(failure -> {
					DataError error = DataError.find(failure);
					assertThat(error).as("a classified failure in %s", failure).isNotNull();
					assertThat(error.kind()).isEqualTo(DataError.Kind.PERMANENT);
					assertThat(error.tenant()).isEqualTo(tenantOn(kind));
				})
				.verify(Duration.ofSeconds(30));

		assertThat(committedRows(kind, id)).as("rows committed by the failed transaction").isZero();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aTransactionalMethodThatSucceedsCommitsEveryWrite(Topology.Kind kind) {
		String id = "ledger-" + UUID.randomUUID();

		StepVerifier.create(ledger.recordPair(id).contextWrite(RoutingContext.forTenant(tenantOn(kind))))
				.verifyComplete();

		assertThat(committedRows(kind, id)).isEqualTo(2);
	}

	@Test
	void aTenantWrittenInsideTheTransactionalMethodComesTooLate() {
		// The transaction takes its connection when the proxy's Mono is subscribed, from the
		// caller's context: a contextWrite inside the method does not reach it.
		StepVerifier.create(ledger.recordWithTheTenantInside("ledger-" + UUID.randomUUID(), "acme"))
				.expectErrorSatisfies(failure -> assertThat(DataError.find(failure)).isNotNull()
						.extracting(DataError::kind).isEqualTo(DataError.Kind.MISSING_CONTEXT))
				.verify(Duration.ofSeconds(30));
	}

	@Test
	void aCallWithoutTheTenantIsAMissingContextError() {
		StepVerifier.create(ledger.recordPair("ledger-" + UUID.randomUUID()))
				.expectErrorSatisfies(failure -> assertThat(DataError.find(failure)).isNotNull()
						.extracting(DataError::kind).isEqualTo(DataError.Kind.MISSING_CONTEXT))
				.verify(Duration.ofSeconds(30));
	}
}
