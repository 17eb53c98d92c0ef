package dev.switchboard.r2dbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Stands between a target's pool and the caller of {@link RoutingConnectionFactory}: subscribes to
 * the pool, and hands the caller itself, as the {@link RoutedConnection} of the pooled connection.
 * It classifies a failure to connect, reports it to the datasource's health, and sends a read
 * whose replica failed to connect once to another target. One object per routing decision, being
 * both subscriber and connection: this is the routing path's hot spot.
 *
 * <p>A cancel does not reach the pool. r2dbc-pool 1.0.2 returns a connection to its pool when its
 * acquisition is cancelled, even after it emitted the connection: the pool then hands the same
 * connection to a second borrower while the first still uses it (measured in
 * {@code HandOffTest}; the same as akka-persistence-r2dbc#48). So the acquisition runs to its end,
 * and a connection that arrives after the cancel is closed here, which returns it to its pool.
 * One that arrives while the cancel is on its way goes to the subscriber, as the Reactive
 * Streams rules allow, which releases it ({@code Flux.usingWhen} does).
 */
final class HandOff extends RoutedConnection implements CoreSubscriber<Connection>, Subscription {

	private static final VarHandle UPSTREAM;

	static {
		try {
			UPSTREAM = MethodHandles.lookup().findVarHandle(HandOff.class, "upstream", Subscription.class);
		}
		catch (ReflectiveOperationException ex) {
			throw new ExceptionInInitializerError(ex);
		}
	}

	private final CoreSubscriber<? super Connection> actual;

	/** Never allowed to fail over. */
	private static final byte NO_FAILOVER = 0;

	/** A read to a replica of a {@link Replicated} datasource: may be sent elsewhere once. */
	private static final byte MAY_FAIL_OVER = 1;

	/** Failed over once: not again. */
	private static final byte FAILED_OVER = 2;

	/**
	 * One byte for both "may fail over" and "was ever allowed to" (only then is demand
	 * remembered): the routing path's one object stays at 56 bytes. Written by onError, read by
	 * request() on any thread: both values it can see there mean "allowed", so a plain field does.
	 */
	private byte failover;

	/**
	 * Written with release semantics when the first upstream arrives (before the subscriber can
	 * see this hand-off, so nothing races with it) and as a volatile after a failover, where a
	 * concurrent cancel or request must see it or be seen; read as a volatile. A volatile store
	 * on every subscription would cost a full fence on the routing path.
	 */
	private @Nullable Subscription upstream;

	/** Read only after a failover: written (as a volatile) only when one may happen. */
	private volatile boolean requested;

	/** Written by a cancel; read when the pool answers. */
	private volatile boolean cancelled;

	HandOff(CoreSubscriber<? super Connection> actual, ContextView context, Tenancy tenancy, DataSource.Target target,
			RoutingListener listener, Use use) {
		super(target, tenancy, listener, context, use);
		this.actual = actual;
		this.failover = use == Use.READ_WITH_FAILOVER ? MAY_FAIL_OVER : NO_FAILOVER;
	}

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		// onSubscribe calls are serialized: the second comes after the first upstream terminated.
		if (this.upstream == null) {
			UPSTREAM.setRelease(this, subscription);
			this.actual.onSubscribe(this);
			return;
		}
		// The second upstream, after a failover, arrives only once the first has terminated. A
		// cancel since then lets it run, to close what it brings.
		UPSTREAM.setVolatile(this, subscription);
		if (this.requested) {
			subscription.request(Long.MAX_VALUE);
		}
	}

	@Override
	public void onNext(Connection connection) {
		if (this.cancelled) {
			this.tenancy.release();
			Mono.from(connection.close()).onErrorComplete().subscribe();
			return;
		}
		this.actual.onNext(connected(connection));
	}

	@Override
	public void onError(Throwable failure) {
		if (this.cancelled) {
			// Nobody waits for this connection any more: no failover, nobody to tell.
			this.tenancy.release();
			return;
		}
		DataSource.Target failed = this.target;
		DataError error = DataErrorClassifier.classify(failure, this.tenancy.tenant, failed.dataSource().name(),
				failed.role());
		this.listener.failed(this.context, error);
		failed.reportFailure(error);
		if (this.failover == MAY_FAIL_OVER && !this.cancelled && DataErrorClassifier.isTargetFailure(error)) {
			this.failover = FAILED_OVER;
			DataSource.Target next = failed.dataSource().select(AccessIntent.READ);
			if (next != null && next != failed) {
				this.target = next;
				this.listener.routed(this.context, this.tenancy.tenant, next,
						next.role() == Role.REPLICA ? RoutingListener.Reason.REPLICA_FAILOVER
								: RoutingListener.Reason.PRIMARY_NO_HEALTHY_REPLICA);
				next.connectionFactory().create().subscribe(this);
				return;
			}
		}
		this.tenancy.release();
		this.actual.onError(error);
	}

	@Override
	public void onComplete() {
		if (!this.cancelled) {
			this.actual.onComplete();
		}
	}

	@Override
	public void request(long n) {
		if (Operators.validate(n)) {
			if (this.failover != NO_FAILOVER) {
				this.requested = true;
			}
			Subscription current = (Subscription) UPSTREAM.getVolatile(this);
			if (current != null) {
				current.request(n);
			}
		}
	}

	@Override
	public void cancel() {
		// Not passed on (see above): the acquisition ends, by a connection that onNext closes or by
		// the pool's acquire timeout, and either returns the tenant's lease. One never asked for is
		// asked for now, or nothing would return it (a second request of a Mono changes nothing).
		this.cancelled = true;
		Subscription current = (Subscription) UPSTREAM.getVolatile(this);
		if (current != null) {
			current.request(Long.MAX_VALUE);
		}
	}
}
