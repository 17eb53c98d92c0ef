package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.UUID;

import dev.switchboard.r2dbc.test.Await;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Proves the test topology itself: replication runs, the lagging replicas lag, the replicas
 * refuse writes. Every other integration test relies on these facts.
 */
@ExtendWith(DevDatabases.class)
class TopologyIT {

	static final String TABLE = "topology_probe";

	@BeforeAll
	static void createTable(Topology topology) {
		topology.createIdTable(TABLE);
	}


	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void rowWrittenOnThePrimaryReachesTheNoDelayReplicaWithinASecond(Topology.Kind kind, Topology topology) {
		Topology.Engine engine = topology.engine(kind);
		String id = UUID.randomUUID().toString();
		Sql.execute(engine.connectionFactory(engine.primary()), insert(kind), id);
		long started = System.nanoTime();

		ConnectionFactory replica = engine.connectionFactory(engine.replica());
		Await.until(Duration.ofSeconds(1), () -> exists(replica, kind, id));

		assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(1));
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void laggingReplicaMissesTheRowRightAfterTheWriteAndHasItAfterTheDelay(Topology.Kind kind, Topology topology) {
		Topology.Engine engine = topology.engine(kind);
		ConnectionFactory lagging = engine.connectionFactory(engine.laggingReplica());
		String id = UUID.randomUUID().toString();
		Sql.execute(engine.connectionFactory(engine.primary()), insert(kind), id);
		long written = System.nanoTime();

		assertThat(exists(lagging, kind, id)).as("row on the lagging replica right after the write").isFalse();
		Await.until(Duration.ofSeconds(10), () -> exists(lagging, kind, id));

		assertThat(Duration.ofNanos(System.nanoTime() - written)).isGreaterThanOrEqualTo(Duration.ofMillis(1500));
	}

	@ParameterizedTest
	@EnumSource(Topology.Kind.class)
	void replicasRefuseWrites(Topology.Kind kind, Topology topology) {
		Topology.Engine engine = topology.engine(kind);
		for (Topology.Server replica : new Topology.Server[] { engine.replica(), engine.laggingReplica() }) {
			assertThatThrownBy(() -> Sql.execute(engine.connectionFactory(replica), insert(kind), "refused"))
					.as("write on %s replica %s", kind, replica)
					.isInstanceOfSatisfying(R2dbcException.class, ex -> {
						if (kind == Topology.Kind.POSTGRESQL) {
							assertThat(ex.getSqlState()).isEqualTo("25006");
						}
						else {
							assertThat(ex.getErrorCode()).isEqualTo(1290);
							assertThat(ex.getMessage()).contains("read-only");
						}
					});
		}
	}

	static String insert(Topology.Kind kind) {
		return "INSERT INTO " + TABLE + " (id) VALUES (" + kind.placeholder() + ")";
	}

	static boolean exists(ConnectionFactory factory, Topology.Kind kind, String id) {
		String placeholder = kind.placeholder();
		return !Sql.query(factory, "SELECT id FROM " + TABLE + " WHERE id = " + placeholder, id).isEmpty();
	}
}
