package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataError;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * The execution of a {@link DeferredConnection}'s statement or batch that routes its connection:
 * it routes for the statement's intent, keeps the routed connection as the deferred one's, and
 * runs the work on it.
 *
 * <p>What a {@code flatMapMany} did with four objects (issue 20), two do: the subscription the
 * subscriber gets at once (Reactor's {@link Operators.DeferredSubscription}, which keeps its demand
 * and its cancel until the driver's results are subscribed to), also the routing's subscriber, and
 * the subscriber of the results. A cancel before the connection is routed cancels the routing,
 * which closes a connection that arrives after it; a failure of the work, thrown or signalled,
 * reaches the subscriber.
 *
 * @param <T> what the driver answers
 */
final class RoutedExecution<T> extends Flux<T> {

	private final DeferredConnection connection;

	private final @Nullable AccessIntent intent;

	private final Work<T> work;

	private RoutedExecution(DeferredConnection connection, @Nullable AccessIntent intent, Work<T> work) {
		this.connection = connection;
		this.intent = intent;
		this.work = work;
	}

	static <T> Flux<T> assemble(DeferredConnection connection, @Nullable AccessIntent intent, Work<T> work) {
		return onAssembly(new RoutedExecution<>(connection, intent, work));
	}

	@Override
	public void subscribe(CoreSubscriber<? super T> actual) {
		Mono<Connection> route;
		try {
			route = this.connection.route(this.intent);
		}
		catch (Throwable failure) {
			Operators.error(actual, Operators.onOperatorError(failure, actual.currentContext()));
			return;
		}
		Routing<T> routing = new Routing<>(actual, this.connection, this.work);
		actual.onSubscribe(routing);
		route.subscribe(routing);
	}

	/** What a deferred statement or batch runs once its connection is routed. */
	interface Work<T> {

		/**
		 * Run on the routed connection.
		 * @param routed the connection
		 * @return what the driver answers
		 */
		Publisher<? extends T> on(Connection routed);
	}

	/**
	 * The subscriber's subscription, and the routing's subscriber: once routed, it subscribes to
	 * the work's answer, whose subscription it then stands for.
	 */
	private static final class Routing<T> extends Operators.DeferredSubscription implements CoreSubscriber<Connection> {

		private final CoreSubscriber<? super T> actual;

		private final DeferredConnection connection;

		private final Work<T> work;

		/** The routing's subscription, until it delivered or failed; cancelled with this. */
		private volatile @Nullable Subscription route;

		/** Whether the routing delivered its connection: its completion then means nothing. */
		private boolean routed;

		Routing(CoreSubscriber<? super T> actual, DeferredConnection connection, Work<T> work) {
			this.actual = actual;
			this.connection = connection;
			this.work = work;
		}

		@Override
		public Context currentContext() {
			return this.actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.route = subscription;
			if (isCancelled()) {
				subscription.cancel();
			}
			else {
				subscription.request(Long.MAX_VALUE);
			}
		}

		@Override
		public void onNext(Connection routed) {
			this.routed = true;
			this.route = null;
			if (isCancelled()) {
				// Cancelled as it arrived: nothing is sent on it, and the deferred connection keeps nothing.
				Mono.from(routed.close()).onErrorComplete().subscribe();
				return;
			}
			Flux<? extends T> answer;
			try {
				answer = Flux.from(answer(routed));
			}
			catch (Throwable failure) {
				answer = Flux.error(Operators.onOperatorError(failure, this.actual.currentContext()));
			}
			answer.subscribe(new Answer<>(this));
		}

		private Publisher<? extends T> answer(Connection routed) {
			DataError moved = this.connection.movedSince(routed);
			if (moved != null) {
				return Mono.from(routed.close()).onErrorComplete().thenMany(Flux.error(moved));
			}
			Connection taken = this.connection.take(routed);
			if (taken == routed) {
				return this.work.on(routed);
			}
			// Closed or cancelled on the way, or acquired concurrently: this one goes back.
			return Mono.from(routed.close()).thenMany(taken != null
					? Flux.defer(() -> Flux.<T>from(this.work.on(taken)))
					: Flux.<T>error(DeferredConnection.closed()));
		}

		@Override
		public void onError(Throwable failure) {
			this.route = null;
			this.actual.onError(failure);
		}

		@Override
		public void onComplete() {
			if (!this.routed) {
				this.actual.onComplete();
			}
		}

		@Override
		public void cancel() {
			super.cancel();
			Subscription route = this.route;
			if (route != null) {
				route.cancel();
			}
		}
	}

	/** The subscriber of the work's answer: its subscription joins the routing's, its signals go on. */
	private static final class Answer<T> implements CoreSubscriber<T> {

		private final Routing<T> routing;

		Answer(Routing<T> routing) {
			this.routing = routing;
		}

		@Override
		public Context currentContext() {
			return this.routing.actual.currentContext();
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.routing.set(subscription);
		}

		@Override
		public void onNext(T element) {
			this.routing.actual.onNext(element);
		}

		@Override
		public void onError(Throwable failure) {
			this.routing.actual.onError(failure);
		}

		@Override
		public void onComplete() {
			this.routing.actual.onComplete();
		}
	}
}
