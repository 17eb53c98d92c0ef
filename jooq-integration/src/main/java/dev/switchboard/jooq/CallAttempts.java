package dev.switchboard.jooq;

import java.util.Objects;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import dev.switchboard.api.DataSource;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;
import reactor.util.context.ContextView;

/**
 * The attempts of one {@link TenantDatabase} call, as one operator: each attempt is planned when
 * subscribed, from the caller's context; its statements see the call's {@link FacadeCall}; a
 * cancel marks that call cancelled before it reaches jOOQ; and a failed attempt is made once more
 * when the rules of the call allow it:
 * <ul>
 * <li>a {@link DataError.Kind#TENANT_MOVED}, before anything was emitted, if the call
 * retries moves: the statement was rendered for the datasource the tenant left and was not sent,
 * and the next attempt resolves the tenant again; once per call;</li>
 * <li>a {@link DataError.Kind#TRANSIENT} failure before the first element, if the attempt said it
 * {@linkplain Attempt#retryTransient() may be retried} (a read outside a transaction): a replica
 * that failed is out of rotation by then; once per resolution of the tenant.</li>
 * </ul>
 *
 * <p>One publisher and one subscriber per call, where {@code deferContextual}, {@code doOnNext},
 * two {@code onErrorResume}s, {@code doOnCancel}, {@code contextWrite} and their lambdas took about
 * twenty objects and 700 bytes per select (issue 20).
 *
 * @param <T> the element type
 */
abstract class CallAttempts<T> extends Flux<T> {

	private final boolean retryMoved;

	/**
	 * @param retryMoved whether an attempt that failed because the tenant moved is made once more
	 */
	CallAttempts(boolean retryMoved) {
		this.retryMoved = retryMoved;
	}

	/**
	 * Plan an attempt: resolve what it runs on, {@linkplain Attempt#guard guard} it if it runs on
	 * deferred connections, and say whether a transient failure may be retried. The facade's
	 * calls plan in a subclass of their own, one object with what it captures where a lambda made two.
	 * @param context the caller's context
	 * @param attempt the attempt
	 * @return what the attempt runs
	 */
	abstract Publisher<? extends T> plan(ContextView context, Attempt<T> attempt);

	/**
	 * Pass a call through Reactor's assembly hooks ({@code Flux.onAssembly} is protected), so that
	 * {@code Hooks.onOperatorDebug()} and {@code checkpoint()} see it.
	 * @param call the call
	 * @param <T> the element type
	 * @return the call, as the hooks return it
	 */
	static <T> Flux<T> assemble(CallAttempts<T> call) {
		return onAssembly(call);
	}

	/**
	 * A call made of the attempts {@code plan} plans.
	 * @param plan plans each attempt
	 * @param retryMoved whether an attempt that failed because the tenant moved is made once more
	 * @param <T> the element type
	 * @return the call's elements
	 */
	static <T> Flux<T> of(Plan<T> plan, boolean retryMoved) {
		return assemble(new CallAttempts<T>(retryMoved) {
			@Override
			Publisher<? extends T> plan(ContextView context, Attempt<T> attempt) {
				return plan.plan(context, attempt);
			}
		});
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		Attempt<T> attempt = new Attempt<>(actual, this, this.retryMoved);
		actual.onSubscribe(attempt);
		attempt.next();
	}

	/** Plans one attempt of a call. */
	@FunctionalInterface
	interface Plan<T> {

		/**
		 * Plan an attempt, as {@link CallAttempts#plan} does.
		 * @param context the caller's context
		 * @param attempt the attempt
		 * @return what the attempt runs
		 */
		Publisher<? extends T> plan(ContextView context, Attempt<T> attempt);
	}

	/**
	 * The running call: the subscriber of each attempt in turn, and the subscription of the
	 * caller, which carries the caller's demand over from one attempt to the next.
	 */
	static final class Attempt<T> extends FacadeCall implements CoreSubscriber<T>, Subscription {

		private final CoreSubscriber<? super T> actual;

		private final CallAttempts<T> calls;

		/** Whether an attempt may still be made again after a move. */
		private boolean movedLeft;

		/** Whether an attempt of the current resolution may still be made again after a transient failure. */
		private boolean transientLeft;

		/** Whether the current attempt may be made again after a transient failure, as planned. */
		private boolean retryTransient;

		/** What the attempts' statements see: the caller's context, and this call once guarded. */
		private volatile Context context;

		private boolean guarded;

		/** Whether an attempt emitted an element: no attempt is made after that. Written by the signals only. */
		private boolean emitted;

		/**
		 * Guarded by this: the caller's demand, the current attempt's subscription, and whether the
		 * caller cancelled ({@link #stopped}).
		 * An attempt is only ever made again before any element was emitted, so the demand a new
		 * attempt is asked for is all the caller asked for.
		 */
		private long requested;

		private @Nullable Subscription upstream;

		/** The subscription a thread is asking for elements now, or {@code null}. */
		private @Nullable Subscription requestingOn;

		/** What was requested while {@link #requestingOn} was being asked. */
		private long missed;

		private boolean stopped;

		Attempt(CoreSubscriber<? super T> actual, CallAttempts<T> calls, boolean retryMoved) {
			this.actual = actual;
			this.calls = calls;
			this.movedLeft = retryMoved;
			this.transientLeft = true;
			this.context = actual.currentContext();
		}

		/**
		 * Guard this attempt: its deferred connections learn of a cancel before jOOQ does, and of
		 * the query object it runs, if it runs one.
		 * @param candidate the intent of the attempt's query object, or {@code null}
		 * @param dataSource the datasource its SQL is rendered for, or {@code null} inside a transaction
		 */
		void guard(@Nullable AccessIntent candidate, @Nullable DataSource dataSource) {
			running(candidate, dataSource);
			if (!this.guarded) {
				this.guarded = true;
				this.context = this.actual.currentContext().put(FacadeCall.class, this);
			}
		}

		/** Let this attempt be made once more if it fails with a transient error before its first element. */
		void retryTransient() {
			this.retryTransient = true;
		}

		/** Plan and subscribe to the next attempt. */
		void next() {
			if (stopped()) {
				return;
			}
			this.retryTransient = false;
			Publisher<? extends T> attempt;
			try {
				attempt = Objects.requireNonNull(this.calls.plan(this.actual.currentContext(), this),
						"the call's work returned no publisher");
			}
			catch (Throwable failure) {
				onError(Operators.onOperatorError(failure, this.actual.currentContext()));
				return;
			}
			attempt.subscribe(this);
		}

		@Override
		public Context currentContext() {
			return this.context;
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			long demand;
			synchronized (this) {
				if (this.stopped) {
					demand = -1;
				}
				else {
					this.upstream = subscription;
					this.missed = 0;
					demand = this.requested;
					this.requestingOn = demand > 0 ? subscription : null;
				}
			}
			if (demand < 0) {
				subscription.cancel();
			}
			else if (demand > 0) {
				subscription.request(demand);
				requestMissed(subscription);
			}
		}

		@Override
		public void onNext(T element) {
			this.emitted = true;
			this.actual.onNext(element);
		}

		@Override
		public void onError(Throwable failure) {
			if (!this.emitted && !stopped()) {
				DataError error = DataError.find(failure);
				DataError.Kind kind = error != null ? error.kind() : null;
				if (kind == DataError.Kind.TENANT_MOVED && this.movedLeft) {
					this.movedLeft = false;
					this.transientLeft = true;
					next();
					return;
				}
				if (kind == DataError.Kind.TRANSIENT && this.retryTransient && this.transientLeft) {
					this.transientLeft = false;
					next();
					return;
				}
			}
			this.actual.onError(failure);
		}

		@Override
		public void onComplete() {
			this.actual.onComplete();
		}

		@Override
		public void request(long n) {
			if (!Operators.validate(n)) {
				return;
			}
			Subscription upstream;
			synchronized (this) {
				this.requested = Operators.addCap(this.requested, n);
				upstream = this.upstream;
				if (upstream == null) {
					return;
				}
				if (this.requestingOn == upstream) {
					// Asked of it by the thread that is asking now, right after.
					this.missed = Operators.addCap(this.missed, n);
					return;
				}
				this.requestingOn = upstream;
			}
			// An attempt that ended meanwhile ignores it; the next one is asked for the whole demand.
			upstream.request(n);
			requestMissed(upstream);
		}

		/**
		 * Ask {@code upstream} for what was requested while this thread was asking it: requests
		 * reach a subscription one at a time (Reactive Streams rule 2.7), and a request made from
		 * within one, as a subscriber's {@code onNext} may make, does not recurse.
		 */
		private void requestMissed(Subscription upstream) {
			for (;;) {
				long missed;
				synchronized (this) {
					if (this.requestingOn != upstream) {
						// A new attempt took over, with the whole demand.
						return;
					}
					missed = this.missed;
					if (missed == 0) {
						this.requestingOn = null;
						return;
					}
					this.missed = 0;
				}
				upstream.request(missed);
			}
		}

		@Override
		public void cancel() {
			// Before jOOQ hears of it: a connection arriving after this is closed, not used. An
			// attempt planned meanwhile is cancelled when it subscribes, before it asks for anything.
			markCancelled();
			Subscription upstream;
			synchronized (this) {
				this.stopped = true;
				upstream = this.upstream;
			}
			if (upstream != null) {
				upstream.cancel();
			}
		}

		private synchronized boolean stopped() {
			return this.stopped;
		}
	}
}
