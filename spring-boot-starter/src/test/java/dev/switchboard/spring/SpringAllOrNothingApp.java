package dev.switchboard.spring;

import org.jooq.DSLContext;
import org.jooq.Field;
import org.jooq.Table;
import org.jooq.impl.DSL;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

import dev.switchboard.r2dbc.RoutingConnectionFactory;

/**
 * A non-web application of one engine for the Spring all-or-nothing tests: the starter's beans, a
 * {@code DatabaseClient} over the routing factory as a user creates it, and a service with
 * {@code @Transactional} methods. Deliberately neither {@code @Configuration} nor
 * {@code @Service}, so that {@link TestApplication}'s component scan does not pick it up.
 */
@EnableAutoConfiguration
@EnableTransactionManagement
class SpringAllOrNothingApp {

	static final String TABLE = "spring_torn_tx";

	static final Table<?> TORN = DSL.table(TABLE);

	static final Field<String> TX = DSL.field("tx", String.class);

	static final Field<Integer> N = DSL.field("n", Integer.class);

	@Bean
	DatabaseClient databaseClient(RoutingConnectionFactory routing) {
		return DatabaseClient.create(routing);
	}

	@Bean
	TransactionalInserts transactionalInserts(DatabaseClient client) {
		return new TransactionalInserts(client);
	}

	static Mono<Long> insert(DatabaseClient client, String tx, int n) {
		return client.sql("INSERT INTO " + TABLE + " (tx, n) VALUES (:tx, :n)").bind("tx", tx).bind("n", n)
				.fetch().rowsUpdated();
	}

	static Mono<Integer> insert(DSLContext dsl, String tx, int n) {
		return Mono.from(dsl.insertInto(TORN, TX, N).values(tx, n));
	}

	/** A service as users write them: {@code @Transactional} on reactive methods. */
	static class TransactionalInserts {

		private final DatabaseClient client;

		TransactionalInserts(DatabaseClient client) {
			this.client = client;
		}

		@Transactional
		public Mono<Integer> twoInserts(String tx) {
			return insert(this.client, tx, 1).then(insert(this.client, tx, 2)).thenReturn(1);
		}

		/** The Reactor Context of a transaction's work, which outlives the transaction. */
		@Transactional
		public Mono<ContextView> contextOfATransaction() {
			return Mono.deferContextual(Mono::just);
		}

		@Transactional
		public Mono<ServerRole> server() {
			return ServerRole.ask(this.client);
		}

		@Transactional(readOnly = true)
		public Mono<ServerRole> serverReadOnly() {
			return ServerRole.ask(this.client);
		}
	}

	/**
	 * Which server answered, as the server says: its port and whether it is a replica
	 * (PostgreSQL {@code pg_is_in_recovery()}, MariaDB {@code @@read_only}).
	 */
	record ServerRole(int port, boolean replica) {

		static Mono<ServerRole> ask(DatabaseClient client) {
			return client.sql("SELECT version() AS v").map(row -> String.valueOf(row.get("v"))).one()
					.flatMap(version -> client.sql(version.contains("MariaDB")
									? "SELECT @@port AS port, @@read_only AS replica"
									: "SELECT inet_server_port() AS port, pg_is_in_recovery() AS replica")
							.map(row -> new ServerRole(((Number) row.get("port")).intValue(), isTrue(row.get("replica"))))
							.one());
		}

		private static boolean isTrue(Object value) {
			return value instanceof Boolean b ? b : ((Number) value).intValue() != 0;
		}
	}
}
