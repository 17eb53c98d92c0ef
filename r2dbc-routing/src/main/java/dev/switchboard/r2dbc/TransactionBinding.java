package dev.switchboard.r2dbc;

import java.util.function.Consumer;
import java.util.function.Function;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Marks, in the Reactor Context, that a pipeline runs inside a transaction of one tenant.
 *
 * <p>While the binding is present, {@link RoutingConnectionFactory} sends every connection request
 * to the primary, and fails any request for another tenant with
 * {@link dev.switchboard.api.DataError.Kind#ROUTING_CONFLICT}, so that the transaction rolls back
 * rather than commit half of its work elsewhere. Transaction managers write it; applications
 * rarely need to. Immutable.
 */
public final class TransactionBinding {

	private static final Class<TransactionBinding> KEY = TransactionBinding.class;

	/** The binding of a transaction manager that is about to begin a transaction. */
	private static final TransactionBinding BEGINNING = new TransactionBinding(null, null, null);

	private static final Function<Context, Context> BEGIN = context -> context.put(KEY, BEGINNING);

	private final @Nullable TenantId tenant;

	private final @Nullable DataSource dataSource;

	/** Told of the connection made for a transaction about to begin, or {@code null}. */
	private final @Nullable Consumer<? super Connection> created;

	private TransactionBinding(@Nullable TenantId tenant, @Nullable DataSource dataSource,
			@Nullable Consumer<? super Connection> created) {
		this.tenant = tenant;
		this.dataSource = dataSource;
		this.created = created;
	}

	/**
	 * Return a context writer that binds the pipeline upstream of it to a transaction.
	 * @param tenant the tenant the transaction runs for
	 * @param dataSource the tenant's datasource
	 * @return a function for {@code contextWrite}
	 */
	public static Function<Context, Context> bind(TenantId tenant, DataSource dataSource) {
		TransactionBinding binding = new TransactionBinding(tenant, dataSource, null);
		return context -> context.put(KEY, binding);
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
		TransactionBinding binding = new TransactionBinding(null, null, created);
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

	@Override
	public String toString() {
		return isBeginning() ? "TransactionBinding[beginning]"
				: "TransactionBinding[tenant=" + this.tenant + ", datasource=" + this.dataSource.name() + "]";
	}
}
