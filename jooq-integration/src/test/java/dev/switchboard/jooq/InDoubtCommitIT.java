package dev.switchboard.jooq;

import java.time.Duration;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.ReplicatedDataSource;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.TenantRegistry;
import dev.switchboard.r2dbc.test.FaultTopology;
import dev.switchboard.r2dbc.test.InDoubtLoad;
import dev.switchboard.r2dbc.test.Topology;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import reactor.core.publisher.Mono;


/**
 * The primary stopped hard under write load, on the fault topology: a write whose answer was lost
 * may have been applied. Counted afterwards on the primary itself, outside the framework: every
 * acknowledged row is there, every row there was acknowledged or reported
 * {@link DataError.Kind#OUTCOME_UNKNOWN} (never as a failure a caller may retry blindly), and every
 * failure is a {@link DataError}. Through the facade's transactions and its autocommit writes.
 */
class InDoubtCommitIT {

	static final String TABLE = "in_doubt_rows";

	static FaultTopology fault;

	RoutingConnectionFactory routing;

	@BeforeAll
	static void setUp() {
		fault = FaultTopology.find();
		fault.topology().createIdTable(TABLE);
	}

	@AfterEach
	void restore() {
		if (this.routing != null) {
			this.routing.close();
		}
		fault.restore();
	}

	TenantDatabase build(Topology.Kind kind) {
		Topology.Engine engine = fault.topology().engine(kind);
		ReplicatedDataSource dataSource = ReplicatedDataSource.builder("doubt-" + kind.name().toLowerCase())
				.primary(engine.url(engine.primary()))
				.probeInterval(Duration.ofMillis(200))
				.pool(pool -> pool.initialSize(0).maxSize(16).maxAcquireTime(Duration.ofSeconds(2))
						.maxCreateConnectionTime(Duration.ofSeconds(2)))
				.build();
		this.routing = new RoutingConnectionFactory(TenantRegistry.builder().dataSource(dataSource)
				.tenant("doubt", dataSource.name()).build());
		return RoutedDsl.builder(this.routing)
				.dialect(dataSource.name(), kind == Topology.Kind.POSTGRESQL ? SQLDialect.POSTGRES : SQLDialect.MARIADB)
				.build()
				.database();
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void aWriteWhoseAnswerWasLostIsReportedAsOutcomeUnknownAndNoAcknowledgedRowIsMissing(Topology.Kind kind) {
		TenantDatabase db = build(kind);
		Function<String, Mono<Integer>> inTransaction = id -> db.transactional(dsl -> Mono.from(
				dsl.insertInto(DSL.table(TABLE)).columns(DSL.field("id", String.class)).values(id))).last();
		Function<String, Mono<Integer>> autocommit = id -> db.execute(dsl -> dsl.insertInto(DSL.table(TABLE))
				.columns(DSL.field("id", String.class)).values(id));

		InDoubtLoad.run("in doubt", fault, kind, TABLE, id -> {
			Mono<Integer> write = id.charAt(id.length() - 1) % 2 == 0 ? inTransaction.apply(id) : autocommit.apply(id);
			return write.contextWrite(RoutingContext.forTenant("doubt"));
		});
	}
}
