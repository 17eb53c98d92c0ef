package dev.switchboard.r2dbc;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataErrorClassifier;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.Role;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * Stands between a target's pool and the caller of {@link RoutingConnectionFactory}: subscribes to
 * the pool, and hands the caller itself, as the {@link RoutedConnection} of the pooled connection.
 * It classifies a failure to connect, reports it to the datasource's health, and sends a read
 * whose replica failed to connect once to another target. One object per routing decision, being
 * both subscriber and connection: this is the routing path's hot spot.
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

	/** A read to a replica of a {@link ReplicatedDataSource} may be sent elsewhere once. */
	private boolean mayFailOver;

	/** Whether this hand-off was ever allowed to fail over: only then is demand remembered. */
	private final boolean failover;

	/**
	 * Written with release semantics when the first upstream arrives (before the subscriber can
	 * see this hand-off, so nothing races with it) and as a volatile after a failover, where a
	 * concurrent cancel or request must see it or be seen; read as a volatile. A volatile store
	 * on every subscription would cost a full fence on the routing path.
	 */
	private @Nullable Subscription upstream;

	private boolean subscribed;

	/** Read only after a failover: written (as a volatile) only when one may happen. */
	private volatile boolean requested;

	private volatile boolean cancelled;

	HandOff(CoreSubscriber<? super Connection> actual, ContextView context, TenantId tenant, DataSource.Target target,
			RoutingListener listener, boolean mayFailOver, boolean write) {
		super(target, tenant, listener, context, write);
		this.actual = actual;
		this.mayFailOver = mayFailOver;
		this.failover = mayFailOver;
	}

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		if (!this.subscribed) {
			UPSTREAM.setRelease(this, subscription);
			this.subscribed = true;
			this.actual.onSubscribe(this);
			return;
		}
		// The second upstream, after a failover, arrives only once the first has terminated.
		UPSTREAM.setVolatile(this, subscription);
		if (this.cancelled) {
			subscription.cancel();
		}
		else if (this.requested) {
			subscription.request(Long.MAX_VALUE);
		}
	}

	@Override
	public void onNext(Connection connection) {
		this.actual.onNext(connected(connection));
	}

	@Override
	public void onError(Throwable failure) {
		DataSource.Target failed = this.target;
		DataError error = DataErrorClassifier.classify(failure, this.tenant, failed.dataSource().name(), failed.role());
		this.listener.failed(this.context, error);
		if (failed.dataSource() instanceof ReplicatedDataSource replicated) {
			replicated.reportFailure(failed, error);
			if (this.mayFailOver && !this.cancelled && DataErrorClassifier.isTargetFailure(error)) {
				this.mayFailOver = false;
				DataSource.Target next = replicated.select(AccessIntent.READ);
				if (next != null && next != failed) {
					this.target = next;
					this.listener.routed(this.context, this.tenant, next,
							next.role() == Role.REPLICA ? RoutingListener.Reason.REPLICA_FAILOVER
									: RoutingListener.Reason.PRIMARY_NO_HEALTHY_REPLICA);
					next.connectionFactory().create().subscribe(this);
					return;
				}
			}
		}
		this.actual.onError(error);
	}

	@Override
	public void onComplete() {
		this.actual.onComplete();
	}

	@Override
	public void request(long n) {
		if (Operators.validate(n)) {
			if (this.failover) {
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
		this.cancelled = true;
		Subscription current = (Subscription) UPSTREAM.getVolatile(this);
		if (current != null) {
			current.cancel();
		}
	}
}
