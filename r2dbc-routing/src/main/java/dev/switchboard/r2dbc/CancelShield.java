package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.Consumer;

import io.r2dbc.spi.Result;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Keeps a subscriber's cancel away from a driver exchange that has not answered yet.
 *
 * <p>A cancel that reaches r2dbc-mysql 1.4.3 while it hands a queued exchange to its subscriber
 * can stall the connection's request queue: every later exchange on that connection waits
 * forever, including the rollback that r2dbc-pool runs when the connection is released, so the
 * connection stays acquired. Measured on the dev-db MariaDB replica with a plain r2dbc-pool: 4 of
 * 4 connections lost in 30,000 {@code SELECT 1}s timed out at random after 0 to 5 ms
 * ({@code CancelShieldIT}). The race is in the driver's {@code RequestQueue}, which checks whether
 * the task it ran was cancelled before the cancel has marked it.
 *
 * <p>The shield lets an exchange that has not emitted anything run to its end when its subscriber
 * cancels, handing what it emits to a drain: what every driver already does with an exchange it
 * has started (r2dbc-mysql and r2dbc-postgresql read a cancelled exchange's responses to their
 * end). Once the exchange has emitted its first element, it has started, and a cancel goes through.
 * One subscriber and one compare-and-set per exchange; no lock.
 */
final class CancelShield<T> implements CoreSubscriber<T>, Subscription {

	private static final int OPEN = 0;

	private static final int ANSWERED = 1;

	private static final int DRAINING = 2;

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<CancelShield> STATE =
			AtomicIntegerFieldUpdater.newUpdater(CancelShield.class, "state");

	private static final Consumer<Object> DROP = element -> {
	};

	private static final Consumer<Result> READ_TO_END = result -> Flux.from(result.getRowsUpdated())
			.onErrorComplete()
			.subscribe();

	private final CoreSubscriber<? super T> actual;

	private final Consumer<? super T> drain;

	private @Nullable Subscription upstream;

	private volatile int state;

	private CancelShield(CoreSubscriber<? super T> actual, Consumer<? super T> drain) {
		this.actual = actual;
		this.drain = drain;
	}

	/**
	 * Shield a statement's execution: a result that arrives after a cancel is read to its end.
	 * @param source the driver's {@code execute()}
	 * @return the shielded publisher
	 */
	@SuppressWarnings("unchecked")
	static Flux<Result> results(Publisher<? extends Result> source) {
		return new Flux<>() {
			@Override
			public void subscribe(CoreSubscriber<? super Result> actual) {
				((Publisher<Result>) source).subscribe(new CancelShield<>(actual, READ_TO_END));
			}
		};
	}

	/**
	 * Shield an exchange of at most one element, such as a commit or a validation.
	 * @param source the driver's publisher
	 * @return the shielded publisher
	 */
	static <T> Mono<T> one(Publisher<T> source) {
		return new Mono<>() {
			@Override
			public void subscribe(CoreSubscriber<? super T> actual) {
				source.subscribe(new CancelShield<>(actual, DROP));
			}
		};
	}

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		if (Operators.validate(this.upstream, subscription)) {
			this.upstream = subscription;
			this.actual.onSubscribe(this);
		}
	}

	@Override
	public void onNext(T element) {
		if (this.state == ANSWERED || STATE.compareAndSet(this, OPEN, ANSWERED)) {
			this.actual.onNext(element);
		}
		else {
			this.drain.accept(element);
		}
	}

	@Override
	public void onError(Throwable failure) {
		// A drained exchange has no subscriber left to tell.
		if (this.state != DRAINING) {
			this.actual.onError(failure);
		}
	}

	@Override
	public void onComplete() {
		if (this.state != DRAINING) {
			this.actual.onComplete();
		}
	}

	@Override
	public void request(long n) {
		this.upstream.request(n);
	}

	@Override
	public void cancel() {
		if (STATE.compareAndSet(this, OPEN, DRAINING)) {
			// Not answered yet: the exchange may be in the driver's hand-off; let it run out.
			this.upstream.request(Long.MAX_VALUE);
		}
		else if (this.state == ANSWERED) {
			this.upstream.cancel();
		}
	}
}
