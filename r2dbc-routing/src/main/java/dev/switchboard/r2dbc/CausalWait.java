package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import dev.switchboard.api.CausalToken;
import dev.switchboard.api.DataSource;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.ContextView;

/**
 * A causal read that waits for a replica: it takes a connection to the replica, waits there for
 * the request's position, and hands that connection over, or releases it and hands over one to
 * the primary. One compare-and-set state decides, against a concurrent cancel, who owns the
 * replica's connection: exactly one of the hand-over, the fallback and the cancel releases or
 * passes it on, so a cancel at any point neither leaks it nor releases it twice.
 *
 * <p>A cancel stops only the wait. The acquisitions run to their end, and what they bring is
 * released by the step that finds the state moved on: a cancelled pool acquisition would hand
 * its connection to a second borrower (see {@link HandOff}). The wait's query that a cancel
 * leaves running is counted, as one of this wait's {@link Drains}, and the replica's connection
 * is released after it.
 */
final class CausalWait extends Drains implements Subscription {

	private static final int IDLE = 0;

	private static final int ACQUIRING = 1;

	private static final int WAITING = 2;

	private static final int PRIMARY = 3;

	/** Handed over: the subscriber owns what it got. */
	private static final int DONE = 4;

	/**
	 * Cancelled: the replica's connection, if any, is released here. Apart from {@link #DONE}:
	 * a hand-over that completes before {@link #acquired} has stored its wait must not be
	 * taken for a cancel, or the reader's connection goes back to the pool while in use.
	 */
	private static final int CANCELLED = 5;

	private static final AtomicIntegerFieldUpdater<CausalWait> STATE =
			AtomicIntegerFieldUpdater.newUpdater(CausalWait.class, "state");

	private static final AtomicIntegerFieldUpdater<CausalWait> RELEASED =
			AtomicIntegerFieldUpdater.newUpdater(CausalWait.class, "released");

	private final RoutingConnectionFactory routing;

	private final CoreSubscriber<? super Connection> actual;

	private final ContextView context;

	/** Its lease goes with the connection handed out, or back when none is. */
	private final Tenancy tenancy;

	private final CausalReads causal;

	private final ServerTarget replica;

	private final CausalToken token;

	private volatile int state = IDLE;

	/** The wait on the replica, for a cancel to stop. */
	private volatile @Nullable Disposable waiting;

	private volatile @Nullable Connection replicaConnection;

	/** Set by the one release of the replica's connection after a cancelled wait. */
	private volatile int released;

	CausalWait(RoutingConnectionFactory routing, CoreSubscriber<? super Connection> actual, ContextView context,
			Tenancy tenancy, CausalReads causal, ServerTarget replica, CausalToken token) {
		this.routing = routing;
		this.actual = actual;
		this.context = context;
		this.tenancy = tenancy;
		this.causal = causal;
		this.replica = replica;
		this.token = token;
	}

	@Override
	public void request(long n) {
		if (Operators.validate(n) && STATE.compareAndSet(this, IDLE, ACQUIRING)) {
			Mono.from(this.replica.connectionFactory().create()).subscribe(this::acquired, this::notAcquired);
		}
	}

	private void acquired(Connection connection) {
		this.replicaConnection = connection;
		if (!STATE.compareAndSet(this, ACQUIRING, WAITING)) {
			this.tenancy.release();
			release(connection);
			return;
		}
		Disposable wait = this.causal.await(this.replica, connection, this.token.position(), this)
				.onErrorReturn(false)
				.subscribe(reached -> waited(connection, reached));
		this.waiting = wait;
		// A cancel that came before the wait was stored left the stop and the release to here.
		if (this.state == CANCELLED) {
			stopWaiting(wait, connection);
		}
	}

	private void notAcquired(Throwable failure) {
		this.replica.reportFailure(failure);
		if (STATE.compareAndSet(this, ACQUIRING, PRIMARY)) {
			toPrimary();
		}
		else {
			this.tenancy.release();
		}
	}

	private void waited(Connection connection, boolean reached) {
		if (reached) {
			if (STATE.compareAndSet(this, WAITING, DONE)) {
				this.routing.listener().routed(this.context, this.tenancy.tenant, this.replica,
						RoutingListener.Reason.REPLICA_CAUSAL);
				this.actual.onNext(new RoutedConnection(this.replica, this.tenancy,
						this.routing.listener(), this.context, RoutedConnection.Use.READ).connected(connection));
				this.actual.onComplete();
			}
		}
		else if (STATE.compareAndSet(this, WAITING, PRIMARY)) {
			release(connection);
			toPrimary();
		}
		// Otherwise the subscriber cancelled, and cancel() released the connection.
	}

	private void toPrimary() {
		DataSource.Target primary = this.tenancy.dataSource.primary();
		this.routing.listener().routed(this.context, this.tenancy.tenant, primary,
				RoutingListener.Reason.PRIMARY_CAUSAL);
		// The lease goes with the primary's connection, which returns it when released.
		this.routing.connect(primary, this.tenancy, this.context).subscribe(connection -> {
			if (STATE.compareAndSet(this, PRIMARY, DONE)) {
				this.actual.onNext(connection);
				this.actual.onComplete();
			}
			else {
				Mono.from(connection.close()).onErrorComplete().subscribe();
			}
		}, failure -> {
			if (STATE.compareAndSet(this, PRIMARY, DONE)) {
				this.actual.onError(failure);
			}
		});
	}

	@Override
	public void cancel() {
		for (;;) {
			int now = this.state;
			if (now == DONE || now == CANCELLED) {
				return;
			}
			if (STATE.compareAndSet(this, now, CANCELLED)) {
				Disposable wait = this.waiting;
				if (now == WAITING && wait != null) {
					stopWaiting(wait, this.replicaConnection);
				}
				else if (now == IDLE) {
					// Never requested: no acquisition will return the lease.
					this.tenancy.release();
				}
				// ACQUIRING, PRIMARY: the acquisition's own callback releases what it brings.
				return;
			}
		}
	}

	/**
	 * Stop the wait, which counts a query it leaves running, then release the connection once:
	 * both the cancel and {@link #acquired} may get here.
	 */
	private void stopWaiting(Disposable wait, Connection connection) {
		wait.dispose();
		if (RELEASED.compareAndSet(this, 0, 1)) {
			this.tenancy.release();
			release(connection);
		}
	}

	/** Release the replica's connection once the wait's cancelled query has ended. */
	private void release(Connection connection) {
		whenQuiet(Mono.from(connection.close())).onErrorComplete().subscribe();
	}
}
