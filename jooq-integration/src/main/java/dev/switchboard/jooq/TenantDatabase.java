package dev.switchboard.jooq;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.DataSourceRegistry;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import dev.switchboard.r2dbc.ScopedConnection;
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
 * {@code DSLContext} built at boot for the tenant's datasource and intent, and runs the work.
 * Inside {@link #transactional}, every call for the same tenant runs on the transaction's
 * connection; a call for another tenant fails with {@link DataError.Kind#ROUTING_CONFLICT} and
 * rolls the transaction back. Thread-safe.
 */
public final class TenantDatabase {

	private final RoutingConnectionFactory routing;

	private final DataSourceRegistry registry;

	private final Map<DataSource, RoutedDsl.Contexts> contexts;

	TenantDatabase(RoutingConnectionFactory routing, Map<DataSource, RoutedDsl.Contexts> contexts) {
		this.routing = routing;
		this.registry = routing.registry();
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
		return Flux.deferContextual(context -> context.hasKey(TransactionScope.class)
				? run(context, AccessIntent.READ, work)
				: retriedBeforeFirstElement(() -> run(context, AccessIntent.READ, work)));
	}

	/**
	 * Run work that writes, or may: the primary serves it, and later reads of the request too.
	 * @param work given the tenant's write context
	 * @param <T> the element type
	 * @return the work's elements
	 */
	public <T> Flux<T> write(Function<DSLContext, ? extends Publisher<T>> work) {
		return Flux.deferContextual(context -> run(context, AccessIntent.WRITE, work));
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
		return Flux.deferContextual(context -> {
			Scope scope = resolve(context);
			if (scope.failure != null) {
				return Flux.error(scope.failure);
			}
			if (scope.transaction != null) {
				return guarded(Flux.from(query.apply(scope.transaction)), null);
			}
			ResultQuery<R> first = query.apply(scope.contexts.inferring());
			AccessIntent candidate = IntentInference.candidate(first);
			if (candidate != AccessIntent.READ) {
				return guarded(Flux.from(first), candidate);
			}
			// A jOOQ query object serves one subscription at a time: the retry builds its own.
			boolean[] firstUsed = { false };
			return retriedBeforeFirstElement(() -> {
				ResultQuery<R> attempt = firstUsed[0] ? query.apply(scope.contexts.inferring()) : first;
				firstUsed[0] = true;
				return guarded(Flux.from(attempt), IntentInference.candidate(attempt));
			});
		});
	}

	/**
	 * Execute a statement and return its update count, routed by its intent, as
	 * {@link #query} routes.
	 * @param statement builds the statement from the tenant's context
	 * @return the number of rows changed
	 */
	public Mono<Integer> execute(Function<DSLContext, ? extends RowCountQuery> statement) {
		return Mono.deferContextual(context -> {
			Scope scope = resolve(context);
			if (scope.failure != null) {
				return Mono.error(scope.failure);
			}
			RowCountQuery query = statement.apply(scope.transaction != null ? scope.transaction : scope.contexts.inferring());
			return guarded(Flux.from(query), IntentInference.candidate(query))
					// Not next(): that cancels the statement after its count, and jOOQ then releases the
					// connection after this Mono completed, when a causal datasource has not yet read
					// the write's position, so the request's next read would be pinned to the primary.
					.reduce((first, last) -> last);
		});
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
		return Flux.deferContextual(context -> {
			Scope scope = resolve(context);
			if (scope.failure != null) {
				return Flux.error(scope.failure);
			}
			TransactionScope outer = context.getOrDefault(TransactionScope.class, null);
			if (outer != null) {
				return savepoint(outer, work);
			}
			RoutingContext routing = RoutingContext.find(context);
			return Flux.usingWhen(Mono.from(scope.contexts.write().configuration().connectionFactory().create())
							.map(connection -> new Transaction(connection, new ScopedConnection(connection),
									new AtomicReference<>())),
					transaction -> begin(transaction, scope, work),
					Transaction::commit,
					(transaction, failure) -> transaction.end(transaction.connection::rollbackTransaction),
					transaction -> transaction.end(transaction.connection::rollbackTransaction))
					.contextWrite(TransactionBinding.bind(scope.tenant, scope.contexts.dataSource()))
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
		TransactionScope bound = new TransactionScope(scope.tenant, scope.contexts.dataSource(), dsl,
				transaction.connection, transaction.scope, transaction.rollbackOnly);
		return Mono.from(transaction.connection.beginTransaction())
				.thenMany(Flux.defer(() -> work.apply(dsl)))
				.contextWrite(c -> c.put(TransactionScope.class, bound));
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
	private record Transaction(Connection connection, ScopedConnection scope, AtomicReference<DataError> rollbackOnly) {

		/** Commit, unless a call for another tenant was refused inside: then roll back and fail with it. */
		Mono<Void> commit() {
			return Mono.defer(() -> {
				DataError conflict = this.rollbackOnly.get();
				return conflict == null ? end(this.connection::commitTransaction)
						: end(this.connection::rollbackTransaction).then(Mono.error(conflict));
			});
		}

		Mono<Void> end(java.util.function.Supplier<Publisher<Void>> ending) {
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
		RoutedDsl.Contexts contexts = this.contexts.get(transaction.dataSource);
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
							.contextWrite(c -> c.put(TransactionScope.class, transaction.nested(dsl, scoped)));
				},
				scoped -> scoped.end(() -> connection.releaseSavepoint(name)),
				(scoped, failure) -> scoped.end(() -> connection.rollbackTransactionToSavepoint(name)),
				scoped -> scoped.end(() -> connection.rollbackTransactionToSavepoint(name)))
				.onErrorMap(TenantDatabase::endFailure)
				.collectList()
				.flatMapIterable(Function.identity());
	}

	private <T> Flux<T> run(ContextView context, AccessIntent intent, Function<DSLContext, ? extends Publisher<T>> work) {
		Scope scope = resolve(context);
		if (scope.failure != null) {
			return Flux.error(scope.failure);
		}
		DSLContext dsl = scope.transaction != null ? scope.transaction : scope.contexts.forIntent(intent);
		return guarded(Flux.from(work.apply(dsl)), null);
	}

	/**
	 * Subscribe to {@code attempt} once more if the first subscription fails with a transient
	 * error before its first element.
	 */
	static <T> Flux<T> retriedBeforeFirstElement(java.util.function.Supplier<Flux<T>> attempt) {
		return Flux.defer(() -> {
			boolean[] emitted = { false };
			return attempt.get()
					.doOnNext(element -> emitted[0] = true)
					.onErrorResume(failure -> !emitted[0] && isTransient(failure) ? attempt.get() : Flux.error(failure));
		});
	}

	/** jOOQ may wrap the routed connection's {@link DataError} in its own exception. */
	private static boolean isTransient(Throwable failure) {
		DataError error = DataError.find(failure);
		return error != null && error.kind() == DataError.Kind.TRANSIENT;
	}

	/**
	 * Let the deferred connections of this call know when it is cancelled, before jOOQ does: jOOQ
	 * may still run a query cancelled before it took its connection, and would never release it.
	 * They also learn the intent of the query object the call runs, if it runs one.
	 */
	private static <T> Flux<T> guarded(Flux<T> work, @Nullable AccessIntent candidate) {
		FacadeCall call = new FacadeCall(candidate);
		return work.doOnCancel(call::cancel).contextWrite(context -> context.put(FacadeCall.class, call));
	}

	private Scope resolve(ContextView context) {
		RoutingContext routing = RoutingContext.find(context);
		TenantId tenant = routing != null ? routing.tenant() : this.registry.defaultTenant();
		if (tenant == null) {
			return failed(context, RoutingContext.noTenantError(routing));
		}
		DataSource dataSource = this.registry.getDataSource(tenant);
		if (dataSource == null) {
			return failed(context, DataError.unknownTenant(tenant));
		}
		TransactionScope transaction = context.getOrDefault(TransactionScope.class, null);
		if (transaction != null && !transaction.tenant.equals(tenant)) {
			DataError conflict = DataError.routingConflict(transaction.tenant, transaction.dataSource.name(), tenant);
			transaction.rollbackOnly.compareAndSet(null, conflict);
			return failed(context, conflict);
		}
		return new Scope(tenant, this.contexts.get(dataSource), transaction != null ? transaction.dsl : null, null);
	}

	/** A call that fails before it reaches the routing factory is still counted by its listener. */
	private Scope failed(ContextView context, DataError error) {
		this.routing.reportRoutingFailure(context, error);
		return Scope.failed(error);
	}

	/** What one call resolved from the Reactor Context, or why it could not. */
	private record Scope(@Nullable TenantId tenant, RoutedDsl.@Nullable Contexts contexts,
			@Nullable DSLContext transaction, @Nullable DataError failure) {

		static Scope failed(DataError failure) {
			return new Scope(null, null, null, failure);
		}
	}

	/**
	 * The running transaction of a pipeline, or a savepoint's scope of it: its tenant, connection,
	 * and context on that connection.
	 */
	private static final class TransactionScope {

		final TenantId tenant;

		final DataSource dataSource;

		final DSLContext dsl;

		/** The transaction's own connection: savepoints begin and end on it. */
		final Connection connection;

		/** The scope the work runs in: the transaction's, or a savepoint's. */
		final ScopedConnection scope;

		/** Shared by the transaction and its savepoints: names are unique on the connection. */
		private final AtomicInteger savepoints;

		/** Set by a refused call for another tenant: the transaction then only rolls back. */
		final AtomicReference<DataError> rollbackOnly;

		TransactionScope(TenantId tenant, DataSource dataSource, DSLContext dsl, Connection connection,
				ScopedConnection scope, AtomicReference<DataError> rollbackOnly) {
			this(tenant, dataSource, dsl, connection, scope, new AtomicInteger(), rollbackOnly);
		}

		private TransactionScope(TenantId tenant, DataSource dataSource, DSLContext dsl, Connection connection,
				ScopedConnection scope, AtomicInteger savepoints, AtomicReference<DataError> rollbackOnly) {
			this.tenant = tenant;
			this.dataSource = dataSource;
			this.dsl = dsl;
			this.connection = connection;
			this.scope = scope;
			this.savepoints = savepoints;
			this.rollbackOnly = rollbackOnly;
		}

		TransactionScope nested(DSLContext dsl, ScopedConnection scope) {
			return new TransactionScope(this.tenant, this.dataSource, dsl, this.connection, scope, this.savepoints,
					this.rollbackOnly);
		}

		int nextSavepoint() {
			return this.savepoints.incrementAndGet();
		}
	}
}
