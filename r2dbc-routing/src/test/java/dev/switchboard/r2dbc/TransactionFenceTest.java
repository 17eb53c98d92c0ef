package dev.switchboard.r2dbc;

import java.util.List;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import org.junit.jupiter.api.Test;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;
import reactor.util.context.Context;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The fence of a connection made for a transaction, against a scripted driver that records what
 * reaches the wire: nothing of a transaction's work is sent after its end, and the end waits for
 * what was sent before it.
 */
class TransactionFenceTest {

	final ScriptedConnection driver = new ScriptedConnection();

	final RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
			.dataSource(new OneServer("pg", this.driver.factory()))
			.dataSource(new OneServer("other", new ScriptedConnection().factory()))
			.tenant("acme", "pg")
			.tenant("globex", "other")
			.build());

	Connection forTransaction() {
		return this.routing.createForTransaction(Context.of(RoutingContext.forTenant("acme").apply(Context.empty())))
				.block();
	}

	static Mono<Long> insert(Connection connection) {
		return Flux.from(connection.createStatement("INSERT INTO t VALUES (1)").execute())
				.flatMap(result -> result.getRowsUpdated())
				.reduce(0L, Long::sum)
				.contextWrite(RoutingContext.forTenant("acme"));
	}

	@Test
	void aStatementSubmittedAfterTheRollbackIsRefusedNotSent() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		Mono.from(connection.rollbackTransaction()).block();

		StepVerifier.create(insert(connection))
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.PERMANENT);
					assertThat(e.getMessage()).contains("transaction has ended").contains("tenant=acme");
				}))
				.verify();
		assertThat(this.driver.sent).containsExactly("BEGIN", "ROLLBACK");
	}

	@Test
	void theRollbackIsSentOnlyAfterAStatementAlreadyOnTheWire() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		this.driver.hold("INSERT");
		Disposable running = insert(connection).subscribe();
		Disposable rollback = Mono.from(connection.rollbackTransaction()).subscribe();

		assertThat(this.driver.sent).containsExactly("BEGIN", "INSERT INTO t VALUES (1)");
		this.driver.answer("INSERT");
		assertThat(this.driver.sent).containsExactly("BEGIN", "INSERT INTO t VALUES (1)", "ROLLBACK");
		assertThat(running.isDisposed()).isTrue();
		assertThat(rollback.isDisposed()).isTrue();
	}

	@Test
	void aRollbackAfterACancelledBeginWaitsForTheBeginToAnswer() {
		// r2dbc-postgresql skips a rollback while its BEGIN is unanswered ("no transaction in progress").
		Connection connection = this.routing.create().contextWrite(RoutingContext.forTenant("acme")).block();
		this.driver.hold("BEGIN");
		Disposable begin = Mono.from(connection.beginTransaction()).subscribe();
		begin.dispose();
		Disposable rollback = Mono.from(connection.rollbackTransaction()).subscribe();

		assertThat(this.driver.sent).containsExactly("BEGIN");
		this.driver.answer("BEGIN");
		assertThat(this.driver.sent).containsExactly("BEGIN", "ROLLBACK");
		assertThat(rollback.isDisposed()).isTrue();
	}

	@Test
	void theCommitIsAlsoAnEndAndSessionSettingsStillPassAfterIt() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		insert(connection).block();
		Mono.from(connection.commitTransaction()).block();
		Mono.from(connection.setTransactionIsolationLevel(io.r2dbc.spi.IsolationLevel.READ_COMMITTED)).block();

		StepVerifier.create(insert(connection)).expectError(DataError.class).verify();
		StepVerifier.create(Mono.from(connection.beginTransaction())).expectError(DataError.class).verify();
		assertThat(this.driver.sent).containsExactly("BEGIN", "INSERT INTO t VALUES (1)", "COMMIT", "SET ISOLATION");
	}

	@Test
	void aConnectionNotMadeForATransactionRunsStatementsAfterItsCommit() {
		// Plain R2DBC may run a transaction and then more on one connection (the R2DBC TCK does).
		Connection connection = this.routing.create().contextWrite(RoutingContext.forTenant("acme")).block();
		Mono.from(connection.beginTransaction()).block();
		Mono.from(connection.commitTransaction()).block();
		assertThat(insert(connection).block()).isEqualTo(1L);
	}

	@Test
	void nothingRunsOnAConnectionAfterItsReleaseWasAskedFor() {
		Connection connection = this.routing.create().contextWrite(RoutingContext.forTenant("acme")).block();
		Mono.from(connection.close()).block();

		StepVerifier.create(insert(connection)).expectError(DataError.class).verify();
		assertThat(this.driver.sent).containsExactly("CLOSE");
	}

	@Test
	void aStatementForAnotherTenantIsRefusedAndTheCommitRollsBack() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		Mono<Long> globex = Flux.from(connection.createStatement("INSERT INTO t VALUES (2)").execute())
				.flatMap(result -> result.getRowsUpdated())
				.reduce(0L, Long::sum)
				.contextWrite(RoutingContext.forTenant("globex"));

		StepVerifier.create(globex.onErrorResume(error -> Mono.empty()).then(Mono.from(connection.commitTransaction())))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.ROUTING_CONFLICT))
				.verify();
		assertThat(this.driver.sent).containsExactly("BEGIN", "ROLLBACK");
	}

	@Test
	void aConnectionLostDuringTheCommitLeavesTheOutcomeUnknown() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		this.driver.fail("COMMIT", new R2dbcNonTransientResourceException("Connection unexpectedly closed", "08006"));

		StepVerifier.create(Mono.from(connection.commitTransaction()))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.OUTCOME_UNKNOWN))
				.verify();
		// Spring rolls back after a failed commit and reports the rollback's failure instead.
		StepVerifier.create(Mono.from(connection.rollbackTransaction()))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.OUTCOME_UNKNOWN))
				.verify();
		assertThat(this.driver.sent).containsExactly("BEGIN", "COMMIT");
	}

	@Test
	void aDriverStateFailureOfAWriteInAutocommitLeavesTheOutcomeUnknownAndOfAReadIsTransient() {
		Connection connection = this.routing.create().contextWrite(RoutingContext.forTenant("acme")).block();
		this.driver.fail("INSERT", new IllegalStateException("Request queue was disposed"));
		this.driver.fail("SELECT", new IllegalStateException("Request queue was disposed"));

		StepVerifier.create(insert(connection))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.OUTCOME_UNKNOWN))
				.verify();
		StepVerifier.create(Flux.from(connection.createStatement("SELECT 1").execute()).contextWrite(RoutingContext.forTenant("acme")))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.TRANSIENT))
				.verify();
	}

	@Test
	void aConnectionLostWhileAnAutocommitWritesResultIsReadLeavesTheOutcomeUnknown() {
		// The insert may have been applied: its answer was lost while its result was being read.
		ScriptedConnection losing = new ScriptedConnection("PostgreSQL", sql -> new io.r2dbc.spi.Result() {
			@Override
			public org.reactivestreams.Publisher<Long> getRowsUpdated() {
				return Mono.error(new R2dbcNonTransientResourceException("Connection closed", "08006"));
			}

			@Override
			public <T> org.reactivestreams.Publisher<T> map(
					java.util.function.BiFunction<io.r2dbc.spi.Row, io.r2dbc.spi.RowMetadata, ? extends T> mapping) {
				return Mono.error(new R2dbcNonTransientResourceException("Connection closed", "08006"));
			}

			@Override
			public io.r2dbc.spi.Result filter(java.util.function.Predicate<Segment> filter) {
				return this;
			}

			@Override
			public <T> org.reactivestreams.Publisher<T> flatMap(
					java.util.function.Function<Segment, ? extends org.reactivestreams.Publisher<? extends T>> mapping) {
				return Mono.error(new R2dbcNonTransientResourceException("Connection closed", "08006"));
			}
		});
		RoutingConnectionFactory routing = new RoutingConnectionFactory(TenantRegistry.builder()
				.dataSource(new OneServer("pg", losing.factory())).tenant("acme", "pg").build());
		Connection connection = routing.create().contextWrite(RoutingContext.forTenant("acme")).block();

		StepVerifier.create(insert(connection))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.OUTCOME_UNKNOWN))
				.verify();
		StepVerifier.create(Flux.from(connection.createStatement("SELECT 1").execute())
						.flatMap(result -> result.map((row, metadata) -> 1))
						.contextWrite(RoutingContext.forTenant("acme")))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.TRANSIENT))
				.verify();
	}

	@Test
	void aFailureOfTheCallersMappingPassesUnchanged() {
		Connection connection = this.routing.create().contextWrite(RoutingContext.forTenant("acme")).block();
		IllegalStateException mine = new IllegalStateException("mine");
		StepVerifier.create(Flux.from(connection.createStatement("SELECT 1").execute())
						.flatMap(result -> result.map(readable -> {
							throw mine;
						}))
						.contextWrite(RoutingContext.forTenant("acme")))
				.expectErrorSatisfies(error -> assertThat(error).isSameAs(mine))
				.verify();
	}

	@Test
	void aScopeRefusesItsStatementsOnceEndedAndItsEndWaitsForThoseSent() {
		Connection connection = forTransaction();
		Mono.from(connection.beginTransaction()).block();
		ScopedConnection scope = new ScopedConnection(connection);
		this.driver.hold("INSERT");
		Disposable running = insert(scope).subscribe();
		Disposable end = scope.end(() -> connection.rollbackTransactionToSavepoint("s1")).subscribe();

		assertThat(this.driver.sent).containsExactly("BEGIN", "INSERT INTO t VALUES (1)");
		this.driver.answer("INSERT");
		assertThat(this.driver.sent).containsExactly("BEGIN", "INSERT INTO t VALUES (1)", "ROLLBACK TO s1");
		assertThat(running.isDisposed() && end.isDisposed()).isTrue();
		StepVerifier.create(insert(scope)).expectError(DataError.class).verify();
		assertThat(insert(connection).block()).as("the enclosing transaction goes on").isEqualTo(1L);
	}

	/** A datasource of one server. */
	record OneServer(String name, ConnectionFactory factory) implements DataSource {

		@Override
		public Target primary() {
			OneServer owner = this;
			return new Target() {
				@Override
				public DataSource dataSource() {
					return owner;
				}

				@Override
				public Role role() {
					return Role.PRIMARY;
				}

				@Override
				public String name() {
					return owner.name + "/primary";
				}

				@Override
				public ConnectionFactory connectionFactory() {
					return owner.factory;
				}
			};
		}

		@Override
		public List<Target> replicas() {
			return List.of();
		}

		@Override
		public @Nullable Target select(AccessIntent intent) {
			return primary();
		}
	}
}
