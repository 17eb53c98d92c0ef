package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Function;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Marks, in the Reactor Context, that a pipeline runs inside a transaction of one tenant: the one
 * mark of "inside a transaction" that routing and the transaction managers read.
 *
 * <p>While the binding is present, {@link RoutingConnectionFactory} sends every connection request
 * to the primary, and fails any request for another tenant with
 * {@link DataError.Kind#ROUTING_CONFLICT} ({@link #conflict}, by the rule of
 * {@code RoutingConflict}), which also marks the transaction rollback-only, so that it rolls back
 * rather than commit half of its work elsewhere, even when the work swallowed the error.
 * Transaction managers write it, and may keep their own state for the transaction on it
 * ({@link #owner}); applications rarely need to. Thread-safe.
 */
public final class TransactionBinding {

	private static final Class<TransactionBinding> KEY = TransactionBinding.class;

	/** The binding of a transaction manager that is about to begin a transaction. */
	private static final TransactionBinding BEGINNING = new TransactionBinding(null, null, null, null, null);

	private static final Function<Context, Context> BEGIN = context -> context.put(KEY, BEGINNING);

	private final @Nullable TenantId tenant;

	private final @Nullable DataSource dataSource;

	/** Told of the connection made for a transaction about to begin, or {@code null}. */
	private final @Nullable Consumer<? super Connection> created;

	/** The state of the transaction manager that wrote this binding, or {@code null}. */
	private final @Nullable Object owner;

	/** The first conflict refused inside the transaction; shared by the bindings of its savepoints. */
	private final @Nullable AtomicReference<DataError> rollbackOnly;

	private TransactionBinding(@Nullable TenantId tenant, @Nullable DataSource dataSource,
			@Nullable Consumer<? super Connection> created, @Nullable Object owner,
			@Nullable AtomicReference<DataError> rollbackOnly) {
		this.tenant = tenant;
		this.dataSource = dataSource;
		this.created = created;
		this.owner = owner;
		this.rollbackOnly = rollbackOnly;
	}

	/**
	 * Return a context writer that binds the pipeline upstream of it to a transaction.
	 * @param tenant the tenant the transaction runs for
	 * @param dataSource the tenant's datasource
	 * @return a function for {@code contextWrite}
	 */
	public static Function<Context, Context> bind(TenantId tenant, DataSource dataSource) {
		return of(tenant, dataSource, null).writer();
	}

	/**
	 * Return the binding of a new transaction, for a transaction manager that keeps its own state
	 * for the transaction on it.
	 * @param tenant the tenant the transaction runs for
	 * @param dataSource the tenant's datasource
	 * @param owner the manager's state, found again with {@link #owner(Class)}, or {@code null}
	 * @return the binding; write it with {@link #writer()}
	 */
	public static TransactionBinding of(TenantId tenant, DataSource dataSource, @Nullable Object owner) {
		return new TransactionBinding(tenant, dataSource, null, owner, new AtomicReference<>());
	}

	/**
	 * Return a binding of the same transaction with other state of its manager's, for a scope
	 * inside it such as a savepoint: a conflict refused in either marks both rollback-only.
	 * @param owner the manager's state for that scope
	 * @return the binding
	 * @throws IllegalStateException for the mark of {@link #beginning()}
	 */
	public TransactionBinding withOwner(Object owner) {
		return new TransactionBinding(tenant(), this.dataSource, null, owner, this.rollbackOnly);
	}

	/**
	 * Return a context writer that puts this binding in the context upstream of it.
	 * @return a function for {@code contextWrite}
	 */
	public Function<Context, Context> writer() {
		return context -> context.put(KEY, this);
	}

	/**
	 * Return the state the transaction manager kept on this binding.
	 * @param type the state's type
	 * @param <T> the state's type
	 * @return the state, or {@code null} if there is none of that type (another manager's binding)
	 */
	public <T> @Nullable T owner(Class<T> type) {
		return type.isInstance(this.owner) ? type.cast(this.owner) : null;
	}

	/**
	 * Check a request for {@code tenant} inside this transaction: another tenant is refused with
	 * {@link DataError.Kind#ROUTING_CONFLICT}, and the transaction becomes rollback-only.
	 * @param tenant the tenant of the request
	 * @return the conflict, or {@code null} when the tenant is the transaction's, or the
	 * transaction is {@link #beginning()} (its tenant is the request's)
	 */
	public @Nullable DataError conflict(TenantId tenant) {
		return this.tenant == null ? null
				: RoutingConflict.check(this.tenant, this.dataSource, tenant, this, TransactionBinding::markRollbackOnly);
	}

	/** The first conflict is kept: the savepoints' bindings share the mark. */
	private void markRollbackOnly(DataError conflict) {
		if (this.rollbackOnly != null) {
			this.rollbackOnly.compareAndSet(null, conflict);
		}
	}

	/**
	 * Return the first conflict refused inside this transaction: if there is one, the transaction
	 * must roll back, and fail with it.
	 * @return the conflict, or {@code null}
	 */
	public @Nullable DataError rollbackOnly() {
		return this.rollbackOnly != null ? this.rollbackOnly.get() : null;
	}

	/**
	 * Return a context writer, for a transaction manager, that marks the pipeline upstream of it
	 * as beginning a transaction: the connection it requests goes to the tenant's primary, whatever
	 * intent the context declares, and is made for one transaction: once it commits or rolls back,
	 * no statement runs on it any more (a cancelled transaction's work that goes on running is
	 * refused rather than run in autocommit), and its end waits for the statements already sent.
	 * Switchboard's own transactions ({@code TenantDatabase}, jOOQ's {@code transactionPublisher},
	 * the starter's transaction manager) use it.
	 * @return a function for {@code contextWrite}
	 */
	public static Function<Context, Context> beginning() {
		return BEGIN;
	}

	/**
	 * Return a context writer like {@link #beginning()} that also tells {@code created} of the
	 * connection made for the transaction, as soon as it is handed out: a transaction manager
	 * whose begin is cancelled after that can still roll back and release it.
	 * @param created told of the connection, on the thread that hands it out
	 * @return a function for {@code contextWrite}
	 */
	public static Function<Context, Context> beginning(Consumer<? super Connection> created) {
		TransactionBinding binding = new TransactionBinding(null, null, created, null, null);
		return context -> context.put(KEY, binding);
	}

	/**
	 * Tell whether this binding marks a transaction about to begin ({@link #beginning()}), whose
	 * tenant is the routing context's.
	 * @return {@code true} for the mark of {@link #beginning()}
	 */
	public boolean isBeginning() {
		return this.tenant == null;
	}

	/** Tell the transaction manager, if it asked, of the connection made for its transaction. */
	void created(Connection connection) {
		if (this.created != null) {
			this.created.accept(connection);
		}
	}

	/**
	 * Find the transaction the pipeline runs in.
	 * @param context the subscriber's context
	 * @return the binding, or {@code null} outside a transaction
	 */
	public static @Nullable TransactionBinding find(ContextView context) {
		return context.getOrDefault(KEY, null);
	}

	/**
	 * Return the tenant of the transaction.
	 * @return the tenant
	 * @throws IllegalStateException for the mark of {@link #beginning()}
	 */
	public TenantId tenant() {
		if (this.tenant == null) {
			throw new IllegalStateException("a transaction about to begin has no tenant of its own");
		}
		return this.tenant;
	}

	/**
	 * Return the datasource of the transaction.
	 * @return the datasource
	 * @throws IllegalStateException for the mark of {@link #beginning()}
	 */
	public DataSource dataSource() {
		if (this.dataSource == null) {
			throw new IllegalStateException("a transaction about to begin has no datasource yet");
		}
		return this.dataSource;
	}

	/** The datasource, or {@code null} for the mark of {@link #beginning()}: for routing. */
	@Nullable DataSource dataSourceOrNull() {
		return this.dataSource;
	}

	@Override
	public String toString() {
		return isBeginning() ? "TransactionBinding[beginning]"
				: "TransactionBinding[tenant=" + this.tenant + ", datasource=" + this.dataSource.name() + "]";
	}
}
