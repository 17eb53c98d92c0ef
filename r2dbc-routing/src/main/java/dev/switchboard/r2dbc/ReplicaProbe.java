package dev.switchboard.r2dbc;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.ReplicationPosition;
import dev.switchboard.api.Role;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.R2dbcNonTransientResourceException;
import io.r2dbc.spi.ValidationDepth;
import org.jspecify.annotations.Nullable;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * The background probe of one datasource, on Reactor's parallel scheduler and never blocking:
 * every interval it tries the servers out of rotation whose backoff has passed, and puts back
 * those that answer; when lag is tracked, it samples the primary's position and then each
 * replica's replayed position, and tells each replica's lag from the primary's history
 * ({@link PrimaryHistory}).
 */
final class ReplicaProbe implements Disposable {

	private final ServerTarget primary;

	private final ServerTarget[] replicas;

	private final Duration interval;

	private final @Nullable Duration maxLag;

	private final boolean trackLag;

	private final Replication.Detected replication;

	private final PrimaryHistory history = new PrimaryHistory();

	private final Disposable rounds;

	/**
	 * Start probing.
	 * @param maxLag the lag beyond which a replica is skipped, or {@code null} for no limit
	 * @param trackLag whether to measure lag (with a maximum lag, or for causal reads)
	 */
	ReplicaProbe(ServerTarget primary, ServerTarget[] replicas, Duration interval, @Nullable Duration maxLag,
			boolean trackLag, Replication.Detected replication) {
		this.primary = primary;
		this.replicas = replicas;
		this.interval = interval;
		this.maxLag = maxLag;
		this.trackLag = trackLag;
		this.replication = replication;
		this.rounds = Flux.interval(interval, Schedulers.parallel())
				.onBackpressureDrop()
				.concatMap(tick -> probeOnce().onErrorResume(failure -> Mono.empty()), 1)
				.subscribe();
	}

	/**
	 * One round of the probe: servers out of rotation whose backoff has passed are tried again;
	 * when lag is tracked, the primary's position is sampled first and then every replica's.
	 */
	Mono<Void> probeOnce() {
		long now = System.nanoTime();
		Mono<Void> primaryRound = this.primary.due(now) || (this.trackLag && this.primary.isUp() && this.replicas.length > 0)
				? probe(this.primary)
				: Mono.empty();
		List<Mono<Void>> replicaRounds = new ArrayList<>(this.replicas.length);
		for (ServerTarget replica : this.replicas) {
			if (replica.due(now) || (this.trackLag && replica.isUp())) {
				replicaRounds.add(probe(replica));
			}
		}
		return primaryRound.then(Mono.when(replicaRounds));
	}

	private Mono<Void> probe(ServerTarget target) {
		Duration timeout = this.interval.multipliedBy(2).compareTo(Duration.ofSeconds(1)) > 0
				? this.interval.multipliedBy(2)
				: Duration.ofSeconds(1);
		// The round's timeout cancels it: its acquisition, its queries and its release are shielded
		// (CancelShield), and the release waits for the queries that a cancel leaves running.
		Drains drains = new Drains();
		Mono<Void> round = Mono.usingWhen(CancelShield.acquire(target.pool().create()),
				connection -> look(target, connection, drains),
				connection -> CancelShield.one(drains.whenQuiet(Mono.from(connection.close())), null));
		// A request that lost its connection after the round began knows better than the round's
		// answer, which may predate the loss: the next round decides.
		int downsBefore = target.downs;
		return round.timeout(timeout)
				.doOnSuccess(ignored -> target.markUpUnlessDownSince(downsBefore))
				.onErrorResume(failure -> {
					if (!target.isUp()) {
						target.backOff(System.nanoTime(), this.interval);
					}
					else if (DataErrorClassifier.isTargetFailure(failure)
							&& target.markDown(System.nanoTime() + this.interval.toNanos())) {
						RotationLog.down(target, failure);
					}
					return Mono.empty();
				});
	}

	private Mono<Void> look(ServerTarget target, Connection connection, Drains drains) {
		if (!this.trackLag) {
			return CancelShield.one(connection.validate(ValidationDepth.REMOTE), drains)
					.flatMap(valid -> valid ? Mono.<Void>empty()
							: Mono.error(new R2dbcNonTransientResourceException(target.name() + " is not valid")));
		}
		return this.replication.of(connection).flatMap(engine -> {
			long sampled = System.nanoTime();
			if (target.role() == Role.PRIMARY) {
				return engine.primaryPosition(connection, drains).doOnNext(position -> {
					target.position = position;
					this.history.add(sampled, position);
				});
			}
			return engine.replayedPosition(connection, drains)
					.singleOptional()
					.doOnNext(position -> {
						ReplicationPosition replayed = position.orElse(null);
						target.measured(replayed, this.history.lag(replayed, sampled), this.maxLag);
					});
		}).then();
	}

	@Override
	public void dispose() {
		this.rounds.dispose();
	}

	@Override
	public boolean isDisposed() {
		return this.rounds.isDisposed();
	}
}
