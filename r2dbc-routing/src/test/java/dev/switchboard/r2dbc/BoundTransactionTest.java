package dev.switchboard.r2dbc;

import java.time.Duration;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Statement;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Inside a transaction that a manager outside Switchboard (Spring's) bound to the routing factory,
 * against a scripted driver: code asking the factory for a connection gets the transaction's, may
 * not end it, and may neither reach another tenant nor open a transaction of its own. Found by a
 * review of the first version of the join, which failed each of these.
 */
class BoundTransactionTest {

	static final String BOUND = "test.bound-transaction";

	final ScriptedConnection driver = new ScriptedConnection();

	final ScriptedConnection otherDriver = new ScriptedConnection();

	final RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
			.dataSource(new TransactionFenceTest.OneServer("pg", this.driver.factory()))
			.dataSource(new TransactionFenceTest.OneServer("other", this.otherDriver.factory()))
			.tenant("acme", "pg")
			.tenant("globex", "other")
			.build(), RoutingListener.NONE, (context, factory) -> context.getOrDefault(BOUND, null));

	static Mono<Long> insert(Connection connection, String tenant, String value) {
		return Flux.from(connection.createStatement("INSERT INTO t VALUES (" + value + ")").execute())
				.flatMap(result -> result.getRowsUpdated())
				.reduce(0L, Long::sum)
				.contextWrite(RoutingContext.forTenant(tenant));
	}

	Connection boundTransaction() {
		Connection owner = this.routing.createForTransaction(Context.of(RoutingContext.forTenant("acme")
				.apply(Context.empty()))).block();
		Mono.from(owner.beginTransaction()).block();
		insert(owner, "acme", "'A'").block();
		return owner;
	}

	static Context inside(Connection owner, String tenant) {
		return Context.of(BOUND, owner).putAll(RoutingContext.forTenant(tenant).apply(Context.empty()).readOnly());
	}

	@Test
	void codeInsideMayNotCommitOrRollBackTheOwnersTransaction() {
		Connection owner = boundTransaction();
		Context inside = inside(owner, "acme");

		StepVerifier.create(Mono.usingWhen(this.routing.create(),
						c -> Mono.from(c.beginTransaction()).then(insert(c, "acme", "'B'")).then(Mono.from(c.commitTransaction())),
						Connection::close)
				.contextWrite(inside))
				.expectError(DataError.class)
				.verify(Duration.ofSeconds(5));
		StepVerifier.create(Mono.usingWhen(this.routing.create(), c -> Mono.from(c.commitTransaction()), Connection::close)
				.contextWrite(inside))
				.expectError(DataError.class)
				.verify(Duration.ofSeconds(5));

		assertThat(insert(owner, "acme", "'C'").block()).as("the owner's transaction goes on").isEqualTo(1L);
		assertThat(this.driver.sent).doesNotContain("COMMIT", "ROLLBACK").containsOnlyOnce("BEGIN");
	}

	@Test
	void anotherTenantOrATransactionOfItsOwnInsideIsARoutingConflict() {
		Connection owner = boundTransaction();

		StepVerifier.create(this.routing.createForTransaction(inside(owner, "globex")))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify(Duration.ofSeconds(5));
		StepVerifier.create(this.routing.create().contextWrite(inside(owner, "globex")))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify(Duration.ofSeconds(5));
		StepVerifier.create(this.routing.createForTransaction(inside(owner, "acme")))
				.expectErrorSatisfies(error -> assertThat(error).hasMessageContaining("transaction of its own"))
				.verify(Duration.ofSeconds(5));

		assertThat(this.otherDriver.sent).as("nothing reached the other tenant's server").isEmpty();
		StepVerifier.create(Mono.from(owner.commitTransaction()))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify(Duration.ofSeconds(5));
		assertThat(this.driver.sent).as("the owner could only roll back").endsWith("ROLLBACK").doesNotContain("COMMIT");
	}

	@Test
	void aStatementWhoseExecuteThrowsIsNotCountedInItsScope() {
		Connection owner = boundTransaction();
		ScopedConnection scope = new ScopedConnection(throwingExecute(owner));
		StepVerifier.create(Flux.from(scope.createStatement("INSERT INTO t VALUES ($1)").execute()))
				.expectError(IllegalStateException.class)
				.verify(Duration.ofSeconds(5));

		assertThat(scope.quiet()).as("the failed exchange is no longer counted").isTrue();
		Mono.from(scope.end(owner::rollbackTransaction)).block(Duration.ofSeconds(5));
		assertThat(this.driver.sent).endsWith("ROLLBACK");
	}

	/** A connection whose statements' {@code execute()} throws, as drivers do for an incomplete binding. */
	static Connection throwingExecute(Connection delegate) {
		ClassLoader loader = BoundTransactionTest.class.getClassLoader();
		return (Connection) java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] { Connection.class },
				(proxy, method, args) -> {
					Object result = method.invoke(delegate, args);
					if (!method.getName().equals("createStatement")) {
						return result;
					}
					Statement real = (Statement) result;
					return java.lang.reflect.Proxy.newProxyInstance(loader, new Class<?>[] { Statement.class },
							(statement, call, callArgs) -> {
								if (call.getName().equals("execute")) {
									throw new IllegalStateException("Not all parameter values are provided");
								}
								return call.invoke(real, callArgs);
							});
				});
	}
}
