package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.Role;
import dev.switchboard.api.RoutingContext;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The causal reads of a datasource in {@link dev.switchboard.api.ReadConsistency#CAUSAL} mode: the
 * choice of a replica for a read that must see a position ({@link #select}), the bounded wait on
 * that replica ({@link #await}, driven by {@link CausalWait}), and the position a write's
 * connection leaves in the request's token ({@link #recordCommittedPosition}).
 *
 * <p>Selection reads the replicas' health and last positions, written by {@link ReplicaProbe};
 * it takes no lock. Thread-safe.
 */
final class CausalReads {

	private static final AtomicIntegerFieldUpdater<CausalReads> NEXT =
			AtomicIntegerFieldUpdater.newUpdater(CausalReads.class, "next");

	private final ServerTarget[] replicas;

	private final Duration wait;

	private final Replication.Detected replication;

	private volatile int next;

	CausalReads(ServerTarget[] replicas, Duration wait, Replication.Detected replication) {
		this.replicas = replicas;
		this.wait = wait;
		this.replication = replication;
	}

	/**
	 * Return the replica for a read that must see {@code wanted}: one known to have replayed it, else
	 * one whose last measured lag makes it likely to reach it within the causal wait (the caller
	 * then waits on it), else {@code null} for the primary.
	 * @param wanted the request's position
	 * @return the replica and whether it is known to cover the position, or {@code null}
	 */
	@Nullable Candidate select(ReplicationPosition wanted) {
		ServerTarget[] candidates = this.replicas;
		if (candidates.length == 0) {
			return null;
		}
		// The mask keeps the index non-negative when the counter wraps around.
		int ticket = NEXT.getAndIncrement(this) & Integer.MAX_VALUE;
		ServerTarget waitable = null;
		for (int i = 0; i < candidates.length; i++) {
			ServerTarget candidate = candidates[(ticket + i) % candidates.length];
			if (!candidate.available) {
				continue;
			}
			ReplicationPosition replayed = candidate.position;
			if (replayed != null && replayed.covers(wanted)) {
				return new Candidate(candidate, true);
			}
			if (waitable == null && !this.wait.isZero() && candidate.lagNanos <= this.wait.toNanos()) {
				waitable = candidate;
			}
		}
		return waitable != null ? new Candidate(waitable, false) : null;
	}

	/**
	 * A replica chosen for a causal read.
	 * @param target the replica
	 * @param covered whether the probe already saw it replay the wanted position
	 */
	record Candidate(ServerTarget target, boolean covered) {
	}

	/**
	 * Wait, at most the causal wait, for a replica's connection to replay {@code wanted}, and
	 * remember what the replica reported.
	 * @param drains counts the wait's queries that a cancel leaves running, for the release
	 * @return {@code true} when the replica covers the position
	 */
	Mono<Boolean> await(ServerTarget replica, Connection connection, ReplicationPosition wanted, Drains drains) {
		return this.replication.of(connection)
				.flatMap(engine -> engine.await(connection, wanted, this.wait, drains))
				.doOnNext(replayed -> replica.position = replayed)
				.hasElement();
	}

	/**
	 * Return the position of the primary after the last commit of a connection to it, for the
	 * request's causal token.
	 * @param connection a connection to the datasource's primary that ran statements
	 * @return the position, or empty when the engine has none or the session wrote nothing
	 */
	private Mono<ReplicationPosition> committedPosition(Connection connection) {
		return this.replication.of(connection).flatMap(engine -> engine.committedPosition(connection));
	}

	/**
	 * Leave the primary's position after a connection's last commit in the request's token, as a
	 * write's connection does before it goes back to its pool. If the position cannot be read, the
	 * request's reads stay pinned to the primary.
	 * @param connection a connection to the datasource's primary that ran statements
	 * @param request the request whose token it updates
	 * @param dataSource the datasource's name, for the token
	 * @return a {@code Mono} that completes when the position is recorded, or could not be read
	 */
	Mono<Void> recordCommittedPosition(Connection connection, RoutingContext request, String dataSource) {
		return committedPosition(connection)
				.doOnNext(position -> request.pin().observe(CausalToken.of(dataSource, position)))
				.onErrorComplete()
				.then();
	}

	/**
	 * The request whose causal token a connection to {@code target} updates when released: only a
	 * primary's, of a datasource with causal reads.
	 * @return the request's routing context, or {@code null}
	 */
	static @Nullable RoutingContext requestOf(DataSource.Target target, ContextView context) {
		if (target.role() != Role.PRIMARY || !(target.dataSource() instanceof Replicated replicated)
				|| replicated.causalReads() == null) {
			return null;
		}
		return RoutingContext.find(context);
	}
}
