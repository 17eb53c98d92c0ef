package dev.switchboard.r2dbc;

import java.util.Locale;

import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import reactor.util.context.ContextView;

/**
 * Observes the decisions of a {@link RoutingConnectionFactory}, for metrics and diagnostics.
 *
 * <p>Called on the subscribing thread, once per decision, before the connection is acquired.
 * Implementations must be fast, non-blocking and thread-safe, and must not throw.
 */
public interface RoutingListener {

	/** A listener that does nothing. */
	RoutingListener NONE = new RoutingListener() {
	};

	/**
	 * Why a statement went where it went.
	 */
	enum Reason {

		/** A read, served by a replica. */
		REPLICA,

		/** A write, or a statement of unknown intent: the primary. */
		PRIMARY_WRITE,

		/** A read after a write in the same request: the primary. */
		PRIMARY_PINNED,

		/** A statement inside a transaction: the primary. */
		PRIMARY_TRANSACTION,

		/** A read of a datasource without replicas: the primary. */
		PRIMARY_NO_REPLICA,

		/** A read when every replica is out of rotation or lagging: the primary. */
		PRIMARY_NO_HEALTHY_REPLICA,

		/** A read retried on another replica after its first one failed to connect. */
		REPLICA_FAILOVER,

		/** A read after a write in causal mode, served by a replica that has replayed the write. */
		REPLICA_CAUSAL,

		/** A read after a write in causal mode that no replica had replayed in time: the primary. */
		PRIMARY_CAUSAL;

		/**
		 * Return the reason in lower case with dashes, for metric tags.
		 * @return for example {@code primary-pinned}
		 */
		public String tag() {
			return name().toLowerCase(Locale.ROOT).replace('_', '-');
		}
	}

	/**
	 * A statement was routed.
	 * @param context the subscriber's context
	 * @param tenant the tenant
	 * @param target the chosen server
	 * @param reason why
	 */
	default void routed(ContextView context, TenantId tenant, DataSource.Target target, Reason reason) {
	}

	/**
	 * A statement could not be routed, its connection could not be had, or the database failed it
	 * (then called on the thread that saw the failure).
	 * @param context the subscriber's context
	 * @param error the classified error
	 */
	default void failed(ContextView context, DataError error) {
	}
}
