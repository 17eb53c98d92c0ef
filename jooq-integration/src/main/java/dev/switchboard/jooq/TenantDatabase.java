package dev.switchboard.jooq;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.Supplier;


import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.ScopedConnection;
import dev.switchboard.r2dbc.TenantResolution;
import dev.switchboard.r2dbc.TransactionBinding;
import io.r2dbc.spi.Connection;
import org.jooq.DSLContext;
import org.jooq.RowCountQuery;
import org.jooq.Record;
import org.jooq.ResultQuery;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The database of the current tenant, as jOOQ sees it: the facade for deployments whose tenants
 * may use different SQL dialects (tenant A on PostgreSQL, tenant B on MariaDB, one code path).
 *
 * <pre class="code">
 * Flux&lt;OrderRecord&gt; open = db.query(dsl -&gt; dsl.selectFrom(ORDERS).where(ORDERS.OPEN))   // a replica
 *     .contextWrite(RoutingContext.forTenant("acme"));
 *
 * Mono&lt;Integer&gt; placed = db.transactional(dsl -&gt; Mono.from(dsl.insertInto(ORDERS).set(order))
 *         .then(Mono.from(dsl.update(STOCK).set(...))))
 *     .single();                                                               // the primary
 * </pre>
 *
 * <p>Each call reads the Reactor Context once, when subscribed: it resolves the tenant (or fails
 * with {@link DataError.Kind#MISSING_CONTEXT}, {@link DataError.Kind#UNKNOWN_TENANT}, or the
 * {@link DataError.Kind#INVALID_TENANT_ID} or {@link DataError.Kind#INVALID_CAUSAL_TOKEN} of a
 * context written for a bad id or token), picks the
 * {@code DSLContext} built for the tenant's datasource and intent (at boot, or when a datasource
 * added later is first used), and runs the work.
 * Inside {@link #transactional}, every call for the same tenant runs on the transaction's
 * connection; a call for another tenant fails with {@link DataError.Kind#ROUTING_CONFLICT} and
 * rolls the transaction back. Thread-safe.
 */
public final class TenantDatabase {

	private final RoutingConnectionFactory routing;

	/** The contexts of a datasource: {@link RoutedDsl}'s, built at boot or when the datasource was added. */
	private final Function<DataSource, DialectContexts> contexts;

	TenantDatabase(RoutingConnectionFactory routing, Function<DataSource, DialectContexts> contexts) {
		this.routing = routing;
		this.contexts = contexts;
	}

	/**
	 * Run work that only reads: a replica may serve it, unless the request wrote before.
	 * <p>If it fails with a {@link DataError.Kind#TRANSIENT transient} error before it emitted
	 * anything (a replica went away, say), it is run once more, routed afresh: a replica that
	 * failed to connect or went away is out of rotation by then, so another target serves it. Work
	 * that already emitted is never run again, so no element is duplicated. Outside transactions only.
	 * @param work given the tenant's read context; called again for the retry
	 * @param <T> the element type
	 * @return the work's elements
	 */
	public <T> Flux<T> read(Function<DSLContext, ? extends Publisher<T>> work) {
		return CallAttempts.assemble(new CallAttempts<T>(true) {
			@Override
			Publisher<? extends T> plan(ContextView context, CallAttempts.Attempt<T> attempt) {
				return run(context, attempt, AccessIntent.READ, work);
			}
		});
	}

	/**
	 * Run work that writes, or may: the primary serves it, and later reads of the request too.
	 * Unlike {@link #query}, {@link #execute}, {@link #read} and {@link #transactional}, it is not
	 * made again when the tenant moved while it was prepared: a
	 * {@link DataError.Kind#TENANT_MOVED} reaches the caller, as the work may have run other
	 * statements before.
	 * @param work given the tenant's write context
	 * @param <T> the element type
	 * @return the work's elements
	 */
	public <T> Flux<T> write(Function<DSLContext, ? extends Publisher<T>> work) {
		return CallAttempts.assemble(new CallAttempts<T>(false) {
			@Override
			Publisher<? extends T> plan(ContextView context, CallAttempts.Attempt<T> attempt) {
				return run(context, attempt, AccessIntent.WRITE, work);
			}
		});
	}

	/**
	 * Run a query and stream its records, routed by the query's own intent: a select that neither
	 * locks rows nor modifies data in a {@code WITH} may go to a replica; anything else, plain SQL
	 * included, goes to the primary. A read is retried once as {@link #read} retries it; other
	 * statements never are.
	 * @param query builds the query from the tenant's context
	 * @param <R> the record type
	 * @return the records
	 */
	public <R extends Record> Flux<R> query(Function<DSLContext, ? extends ResultQuery<R>> query) {
		return CallAttempts.assemble(new CallAttempts<R>(true) {
			@Override
			Publisher<? extends R> plan(ContextView context, CallAttempts.Attempt<R> attempt) {
				Scope scope = resolve(context);
				if (scope.failure != null) {
					return Flux.error(scope.failure);
				}
				if (scope.transaction != null) {
					attempt.guard(null, null);
					return query.apply(scope.transaction);
				}
				// A jOOQ query object serves one subscription at a time: each attempt builds its own.
				ResultQuery<R> built = query.apply(scope.contexts.inferring());
				AccessIntent candidate = IntentInference.candidate(built);
				attempt.guard(candidate, scope.contexts.dataSource());
				if (candidate == AccessIntent.READ) {
					attempt.retryTransient();
				}
				return built;
			}
		});
	}

	/**
	 * Execute a statement and return its update count, routed by its intent, as
	 * {@link #query} routes.
	 * @param statement builds the statement from the tenant's context
	 * @return the number of rows changed
	 */
	public Mono<Integer> execute(Function<DSLContext, ? extends RowCountQuery> statement) {
		return CallAttempts.assemble(new CallAttempts<Integer>(true) {
			@Override
			Publisher<? extends Integer> plan(ContextView context, CallAttempts.Attempt<Integer> attempt) {
				Scope scope = resolve(context);
				if (scope.failure != null) {
					return Flux.error(scope.failure);
				}
				RowCountQuery query = statement.apply(
						scope.transaction != null ? scope.transaction : scope.contexts.inferring());
				attempt.guard(IntentInference.candidate(query),
						scope.transaction != null ? null : scope.contexts.dataSource());
				return query;
			}
		})
				// Not next(): that cancels the statement after its count, and jOOQ then releases the
				// connection after this Mono completed, when a causal datasource has not yet read
				// the write's position, so the request's next read would be pinned to the primary.
				.reduce((first, last) -> last);
	}

	/**
	 * Run work in a transaction on one connection to the tenant's primary, from begin to commit.
	 * <p>Every statement of the work, read or write, runs on that connection and sees the
	 * transaction's own writes. Called inside another transaction of the same tenant, it opens a
	 * savepoint on the same connection. It commits when the work completes, rolls back when the
	 * work fails or the subscription is cancelled, and always returns the connection to its pool.
	 * After a commit the request's pin is tripped, so later reads see the writes.
	 * <p>All or nothing: the work's elements are held back and emitted only once the commit
	 * succeeded (a savepoint's, once it was released), so an element received is an element
	 * committed, and {@code .next()} of a transaction does not roll it back. A cancel before the
	 * commit rolls back; a statement the cancelled work still submits afterwards is refused, not
	 * run; the rollback waits for the statements already sent. A cancel once the commit was sent
	 * lets it finish. Work that streams more elements than fit in memory belongs outside a
	 * transaction, or in a {@code collect} of its own.
	 * @param work given a context bound to the transaction's connection
	 * @param <T> the element type
	 * @return the work's elements, after the commit
	 */
	public <T> Flux<T> transactional(Function<DSLContext, ? extends Publisher<T>> work) {
		// Made again if its BEGIN was refused because the tenant moved: its work had not run.
		return Flux.defer(() -> {
			boolean[] started = { false };
			return transactionalOnce(dsl -> {
				started[0] = true;
				return work.apply(dsl);
			}).onErrorResume(failure -> isMoved(failure) && !started[0] ? transactionalOnce(work) : Flux.error(failure));
		});
	}

	private <T> Flux<T> transactionalOnce(Function<DSLContext, ? extends Publisher<T>> work) {
		return Flux.deferContextual(context -> {
			Scope scope = resolve(context);
			if (scope.failure != null) {
				return Flux.error(scope.failure);
			}
			TransactionScope outer = TransactionScope.find(context);
			if (outer != null) {
				return savepoint(outer, work);
			}
			RoutingContext routing = RoutingContext.find(context);
			TransactionBinding binding = TransactionBinding.of(scope.tenant, scope.contexts.dataSource(), null);
			return Flux.usingWhen(Mono.from(scope.contexts.write().configuration().connectionFactory().create())
							.map(connection -> new Transaction(connection, new ScopedConnection(connection), binding)),
					transaction -> begin(transaction, scope, work),
					Transaction::commit,
					(transaction, failure) -> transaction.end(transaction.connection::rollbackTransaction),
					transaction -> transaction.end(transaction.connection::rollbackTransaction))
					.contextWrite(binding.writer())
					.onErrorMap(TenantDatabase::endFailure)
					.collectList()
					.doOnNext(committed -> {
						if (routing != null) {
							routing.pin().trip();
						}
					})
					.flatMapIterable(Function.identity());
		});
	}

	private <T> Flux<T> begin(Transaction transaction, Scope scope, Function<DSLContext, ? extends Publisher<T>> work) {
		DSLContext dsl = scope.contexts.on(transaction.scope);
		TransactionScope bound = new TransactionScope(transaction.binding, dsl, transaction.connection,
				transaction.scope);
		return Mono.from(transaction.connection.beginTransaction())
				.thenMany(Flux.defer(() -> work.apply(dsl)))
				.contextWrite(bound.writer());
	}

	/**
	 * The failure of a commit or release as the caller should see it: {@code Flux.usingWhen}
	 * wraps it ("Async resource cleanup failed after onComplete"), which would hide an
	 * {@code OUTCOME_UNKNOWN} or {@code ROUTING_CONFLICT} from {@code onErrorResume(DataError.class, ...)}.
	 */
	private static Throwable endFailure(Throwable failure) {
		return failure.getClass() == RuntimeException.class && failure.getCause() instanceof DataError error
				? error
				: failure;
	}

	/**
	 * A transaction's connection, and the scope its work runs in: the scope's end (after the
	 * work's statements and savepoints) commits or rolls back, then the connection is closed,
	 * also when the end fails, keeping its failure.
	 */
	private record Transaction(Connection connection, ScopedConnection scope, TransactionBinding binding) {

		/** Commit, unless a call for another tenant was refused inside: then roll back and fail with it. */
		Mono<Void> commit() {
			return Mono.defer(() -> {
				DataError conflict = this.binding.rollbackOnly();
				return conflict == null ? end(this.connection::commitTransaction)
						: end(this.connection::rollbackTransaction).then(Mono.error(conflict));
			});
		}

		Mono<Void> end(Supplier<Publisher<Void>> ending) {
			return this.scope.end(ending)
					.onErrorResume(failure -> Mono.from(this.connection.close()).then(Mono.error(failure)))
					.then(Mono.from(this.connection.close()));
		}
	}

	/**
	 * Run work in a savepoint of the running transaction, in a scope of its own: the enclosing
	 * scope does not end before this one, and once the savepoint is released or rolled back to,
	 * the work's statements are refused.
	 */
	private <T> Flux<T> savepoint(TransactionScope transaction, Function<DSLContext, ? extends Publisher<T>> work) {
		String name = "switchboard_" + transaction.nextSavepoint();
		Connection connection = transaction.connection;
		DialectContexts contexts = this.contexts.apply(transaction.binding.dataSource());
		return Flux.usingWhen(Mono.defer(() -> {
					ScopedConnection scoped = transaction.scope.open();
					// Until usingWhen holds the scope, ending it is here: the enclosing scope waits for it. A
					// cancel may race the hand-over, and only one end runs: it rolls back what the work may
					// have sent (after the SAVEPOINT, which runs to its end).
					return Mono.from(connection.createSavepoint(name)).thenReturn(scoped)
							.onErrorResume(failure -> scoped.end(Mono::empty).then(Mono.error(failure)))
							.doOnCancel(() -> scoped.end(() -> connection.rollbackTransactionToSavepoint(name))
									.onErrorComplete().subscribe());
				}),
				scoped -> {
					DSLContext dsl = contexts.on(scoped);
					return Flux.defer(() -> work.apply(dsl))
							.contextWrite(transaction.nested(dsl, scoped).writer());
				},
				scoped -> scoped.end(() -> connection.releaseSavepoint(name)),
				(scoped, failure) -> scoped.end(() -> connection.rollbackTransactionToSavepoint(name)),
				scoped -> scoped.end(() -> connection.rollbackTransactionToSavepoint(name)))
				.onErrorMap(TenantDatabase::endFailure)
				.collectList()
				.flatMapIterable(Function.identity());
	}

	/**
	 * Plan an attempt of {@link #read} or {@link #write}: the work on the tenant's context for
	 * {@code intent}, or on its transaction's; a read outside a transaction may be retried after a
	 * transient failure before its first element.
	 */
	private <T> Publisher<? extends T> run(ContextView context, CallAttempts.Attempt<T> attempt, AccessIntent intent,
			Function<DSLContext, ? extends Publisher<T>> work) {
		Scope scope = resolve(context);
		if (scope.failure != null) {
			return Flux.error(scope.failure);
		}
		if (scope.transaction != null) {
			attempt.guard(null, null);
			return work.apply(scope.transaction);
		}
		if (intent == AccessIntent.READ) {
			attempt.retryTransient();
		}
		attempt.guard(null, scope.contexts.dataSource());
		return work.apply(scope.contexts.forIntent(intent));
	}

	/** Whether a failure is, or wraps, a {@link DataError.Kind#TENANT_MOVED}. */
	private static boolean isMoved(Throwable failure) {
		DataError error = DataError.find(failure);
		return error != null && error.kind() == DataError.Kind.TENANT_MOVED;
	}

	private Scope resolve(ContextView context) {
		TenantResolution resolved = this.routing.resolve(context);
		DataError failure = resolved.failure();
		if (failure != null) {
			return Scope.failed(failure);
		}
		TransactionScope transaction = TransactionScope.find(context);
		return new Scope(resolved.tenant(), this.contexts.apply(resolved.dataSource()),
				transaction != null ? transaction.dsl : null, null);
	}

	/** What one call resolved from the Reactor Context, or why it could not. */
	private record Scope(@Nullable TenantId tenant, @Nullable DialectContexts contexts,
			@Nullable DSLContext transaction, @Nullable DataError failure) {

		static Scope failed(DataError failure) {
			return new Scope(null, null, null, failure);
		}
	}

	/**
	 * The facade's state for a running transaction, or a savepoint's scope of it, kept on the
	 * transaction's {@link TransactionBinding}: its connection, and the context on that connection.
	 */
	private static final class TransactionScope {

		final TransactionBinding binding;

		final DSLContext dsl;

		/** The transaction's own connection: savepoints begin and end on it. */
		final Connection connection;

		/** The scope the work runs in: the transaction's, or a savepoint's. */
		final ScopedConnection scope;

		/** Shared by the transaction and its savepoints: names are unique on the connection. */
		private final AtomicInteger savepoints;

		TransactionScope(TransactionBinding binding, DSLContext dsl, Connection connection, ScopedConnection scope) {
			this(binding, dsl, connection, scope, new AtomicInteger());
		}

		private TransactionScope(TransactionBinding binding, DSLContext dsl, Connection connection,
				ScopedConnection scope, AtomicInteger savepoints) {
			this.binding = binding.withOwner(this);
			this.dsl = dsl;
			this.connection = connection;
			this.scope = scope;
			this.savepoints = savepoints;
		}

		/** The facade's transaction the pipeline runs in, or {@code null}. */
		static @Nullable TransactionScope find(ContextView context) {
			TransactionBinding binding = TransactionBinding.find(context);
			return binding != null ? binding.owner(TransactionScope.class) : null;
		}

		Function<Context, Context> writer() {
			return this.binding.writer();
		}

		TransactionScope nested(DSLContext dsl, ScopedConnection scope) {
			return new TransactionScope(this.binding, dsl, this.connection, scope, this.savepoints);
		}

		int nextSavepoint() {
			return this.savepoints.incrementAndGet();
		}
	}
}
