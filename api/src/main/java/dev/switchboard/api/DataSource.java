package dev.switchboard.api;

import java.util.List;

import io.r2dbc.spi.ConnectionFactory;
import org.jspecify.annotations.Nullable;

/**
 * One logical database: a primary and zero or more read replicas, each behind its own
 * connection pool.
 *
 * <p>Implementations decide which replica serves a read, without locks, and are thread-safe.
 */
public interface DataSource {

	/**
	 * Return the logical name of this datasource, as used in configuration, logs and metrics.
	 * @return the name
	 */
	String name();

	/**
	 * Return the target that serves writes.
	 * @return the primary
	 */
	Target primary();

	/**
	 * Return the read replicas, in configuration order.
	 * @return an immutable list, empty when reads go to the primary
	 */
	List<Target> replicas();

	/**
	 * Return the target for a statement whose pin has already been applied.
	 * @param intent the effective intent: {@link AccessIntent#WRITE} selects the primary,
	 * {@link AccessIntent#READ} a healthy replica (or the primary when there is none and the
	 * datasource allows it)
	 * @return the chosen target, or {@code null} when a read finds no healthy server
	 */
	@Nullable Target select(AccessIntent intent);

	/**
	 * Return the target for a statement whose pin has already been applied, choosing among the
	 * replicas by {@code ticket} rather than by a counter of the datasource's own. The routing
	 * factory derives it from the count of its tenant's connections, which it increments on every
	 * decision anyway: the choice then costs no second atomic operation. By default the ticket is
	 * ignored.
	 * @param intent the effective intent, as for {@link #select(AccessIntent)}
	 * @param ticket a non-negative number, spread evenly over the decisions of a tenant: the
	 * replica is {@code ticket % replicas} among those available
	 * @return the chosen target, or {@code null} when a read finds no healthy server
	 */
	default @Nullable Target select(AccessIntent intent, int ticket) {
		return select(intent);
	}

	/**
	 * Return how this datasource serves the reads of a request that has written.
	 * @return {@link ReadConsistency#PIN} unless configured otherwise
	 */
	default ReadConsistency consistency() {
		return ReadConsistency.PIN;
	}

	/**
	 * One server of a datasource and the connection factory (a pool) that reaches it.
	 */
	interface Target {

		/**
		 * Return the datasource this target belongs to.
		 * @return the owning datasource
		 */
		DataSource dataSource();

		/**
		 * Return the role of the server.
		 * @return primary or replica
		 */
		Role role();

		/**
		 * Return the name of the target, {@code <datasource>/primary} or
		 * {@code <datasource>/replica-<i>}, as used by its pool, logs and metrics.
		 * @return the name
		 */
		String name();

		/**
		 * Return the connection factory of the target, normally a connection pool.
		 * @return the connection factory
		 */
		ConnectionFactory connectionFactory();

		/**
		 * Tell this target that a connection or statement on it failed. A target that tracks its
		 * server's health takes itself out of rotation when the failure says the server is
		 * unreachable or going away ({@link DataErrorClassifier#isTargetFailure}); the failure of a
		 * single statement leaves it alone. Routing calls this for every failure it sees; by
		 * default nothing happens.
		 * @param failure the failure seen on this target
		 * @return {@code true} if this call took the target out of rotation
		 */
		default boolean reportFailure(Throwable failure) {
			return false;
		}

		/**
		 * Return what the datasource knows of this target's server, for health pages and tests.
		 * @return its status; by default {@link TargetStatus#UNTRACKED}
		 */
		default TargetStatus status() {
			return TargetStatus.UNTRACKED;
		}
	}
}
