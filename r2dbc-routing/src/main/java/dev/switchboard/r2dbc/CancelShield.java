package dev.switchboard.r2dbc;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

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
 * Keeps a subscriber's cancel away from a driver exchange: a cancelled exchange runs to its end,
 * and what it emits, or emitted without anyone reading it, is read to its end and dropped.
 *
 * <p>A cancel that reaches r2dbc-mysql 1.4.3 while it hands a queued exchange to its subscriber
 * can stall the connection's request queue: every later exchange on that connection waits
 * forever, including the rollback that r2dbc-pool runs when the connection is released, so the
 * connection stays acquired. The race is in the driver's {@code RequestQueue}, which checks whether
 * the task it ran was cancelled before the cancel has marked it. A result that was emitted but
 * never read stalls the queue the same way: the driver waits for demand that never comes.
 * Measured on the dev-db MariaDB replica with a plain r2dbc-pool: 2 to 4 of 4 connections lost
 * in 30,000 {@code SELECT 1}s timed out at random ({@code CancelShieldIT}).
 *
 * <p>So the shield never cancels the driver's exchange. When its subscriber cancels, it asks for
 * everything that is left, reads each result that nobody claimed (see {@link RoutedResult#claim()})
 * to its end, and drops it: what the drivers already do with a cancelled exchange they have
 * started (r2dbc-mysql and r2dbc-postgresql read it to its end rather than interrupt the server).
 * One subscriber and one compare-and-set per exchange; no lock.
 */
final class CancelShield<T> implements CoreSubscriber<T>, Subscription {

	private static final int OPEN = 0;

	private static final int DRAINING = 1;

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<CancelShield> STATE =
			AtomicIntegerFieldUpdater.newUpdater(CancelShield.class, "state");

	private static final RoutedResult[] NONE = {};

	private final CoreSubscriber<? super T> actual;

	/** Wraps what a statement emits, or {@code null} for an exchange of at most one answer. */
	private final @Nullable RoutedConnection connection;

	private final boolean results;

	private @Nullable Subscription upstream;

	private volatile int state;

	/**
	 * The results handed to the subscriber, for a cancel to read those nobody claimed; written only
	 * by {@code onNext}, which the Reactive Streams rules serialize, read by {@code cancel}.
	 */
	private volatile RoutedResult[] handedOut = NONE;

	private CancelShield(CoreSubscriber<? super T> actual, @Nullable RoutedConnection connection, boolean results) {
		this.actual = actual;
		this.connection = connection;
		this.results = results;
	}

	/**
	 * Shield a statement's execution: its results reach the subscriber as {@link RoutedResult}s,
	 * and after a cancel every result nobody read is read to its end.
	 * @param source the driver's {@code execute()}
	 * @param connection the connection that classifies the results' failures, or {@code null}
	 * @return the shielded publisher
	 */
	static Flux<Result> results(Publisher<? extends Result> source, @Nullable RoutedConnection connection) {
		return new Flux<>() {
			@Override
			@SuppressWarnings("unchecked")
			public void subscribe(CoreSubscriber<? super Result> actual) {
				((Publisher<Result>) source).subscribe(new CancelShield<>(actual, connection, true));
			}
		};
	}

	/**
	 * Shield an exchange of at most one answer, such as a commit, a validation or a release.
	 * @param source the driver's publisher
	 * @return the shielded publisher
	 */
	static <T> Mono<T> one(Publisher<T> source) {
		return new Mono<>() {
			@Override
			public void subscribe(CoreSubscriber<? super T> actual) {
				source.subscribe(new CancelShield<>(actual, null, false));
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
	@SuppressWarnings("unchecked")
	public void onNext(T element) {
		if (!this.results) {
			if (this.state == OPEN) {
				this.actual.onNext(element);
			}
			return;
		}
		RoutedResult result = new RoutedResult((Result) element, this.connection);
		RoutedResult[] before = this.handedOut;
		RoutedResult[] after = Arrays.copyOf(before, before.length + 1);
		after[before.length] = result;
		// Remembered before the state is read; cancel() sets the state before it reads this.
		this.handedOut = after;
		if (this.state == OPEN) {
			this.actual.onNext((T) result);
		}
		else {
			readToEnd(result);
		}
	}

	@Override
	public void onError(Throwable failure) {
		// A drained exchange has no subscriber left to tell.
		if (this.state == OPEN) {
			this.actual.onError(failure);
		}
	}

	@Override
	public void onComplete() {
		if (this.state == OPEN) {
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
			for (RoutedResult result : this.handedOut) {
				readToEnd(result);
			}
			this.upstream.request(Long.MAX_VALUE);
		}
	}

	private static void readToEnd(RoutedResult result) {
		if (result.claim()) {
			Flux.from(result.unwrap().getRowsUpdated()).onErrorComplete().subscribe();
		}
	}
}
