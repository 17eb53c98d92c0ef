package dev.switchboard.spring;

import java.util.Map;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.InDoubtLoad;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.reactive.TransactionalOperator;


/**
 * The primary stopped hard under Spring-transaction load, on the fault topology: sixteen
 * {@code TransactionalOperator} transactions of a {@code DatabaseClient} insert at a time. Counted
 * afterwards on the restarted primary with a plain connection: every failure carries a
 * {@link DataError} (Spring wraps it: found with {@link DataError#find}), no acknowledged row is
 * missing, and every row there was acknowledged or reported {@link DataError.Kind#OUTCOME_UNKNOWN}.
 */
class SpringInDoubtCommitIT {

	static final String TABLE = "spring_in_doubt_rows";

	ConfigurableApplicationContext context;

	final FaultTopology fault = FaultTopology.find();

	/** Only auto-configuration: the starter's transaction manager and DatabaseClient. */
	@SpringBootConfiguration
	@EnableAutoConfiguration
	static class Application {
	}

	@AfterEach
	void stop() {
		if (this.context != null) {
			this.context.close();
		}
		this.fault.restore();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aCommitWhoseAnswerWasLostIsReportedAsOutcomeUnknownAndNoAcknowledgedRowIsMissing(Topology.Kind kind) {
		Topology.Engine engine = this.fault.topology().engine(kind);
		this.fault.topology().createIdTable(TABLE);
		this.context = new SpringApplicationBuilder(Application.class).web(WebApplicationType.NONE)
				.properties(Map.of("switchboard.datasources.doubt.primary", engine.url(engine.primary()),
						"switchboard.datasources.doubt.dialect", kind == Topology.Kind.POSTGRESQL ? "POSTGRES" : "MARIADB",
						"switchboard.datasources.doubt.pool.max-size", "16",
						"switchboard.tenants.doubt.datasource", "doubt"))
				.run();
		TransactionalOperator operator = this.context.getBean(TransactionalOperator.class);
		DatabaseClient client = this.context.getBean(DatabaseClient.class);

		InDoubtLoad.run("spring in doubt", this.fault, kind, TABLE, id -> operator
				.transactional(client.sql("INSERT INTO " + TABLE + " (id) VALUES (:id)").bind("id", id).fetch().rowsUpdated())
				.contextWrite(RoutingContext.forTenant("doubt")));
	}
}
