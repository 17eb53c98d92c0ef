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
 * <p>The subscriber receives its {@code onSubscribe} from the driver's results, once the connection
 * is routed (or with the failure that ended the routing), not before: a publisher may signal
 * {@code onSubscribe} later than its {@code subscribe} returns, and until then there is nothing for
 * the subscriber to cancel. jOOQ, the one subscriber of these executions, never cancels one: it
 * closes the deferred connection, which then closes the routed connection still on its way (see
 * {@link DeferredConnection#take}). So one subscriber per execution does the work that a
 * {@code flatMapMany} did with four objects (issue 20).
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
		catch (RuntimeException failure) {
			Operators.error(actual, failure);
			return;
		}
		route.subscribe(new Routing<>(actual, this.connection, this.work));
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

	/** Waits for the routed connection, then subscribes the execution's subscriber to the work on it. */
	private static final class Routing<T> implements CoreSubscriber<Connection> {

		private final CoreSubscriber<? super T> actual;

		private final DeferredConnection connection;

		private final Work<T> work;

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
			subscription.request(Long.MAX_VALUE);
		}

		@Override
		public void onNext(Connection routed) {
			this.routed = true;
			Publisher<? extends T> answer;
			try {
				answer = answer(routed);
			}
			catch (RuntimeException failure) {
				Operators.error(this.actual, failure);
				return;
			}
			Flux.from(answer).subscribe(this.actual);
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
			Operators.error(this.actual, failure);
		}

		@Override
		public void onComplete() {
			if (!this.routed) {
				Operators.complete(this.actual);
			}
		}
	}
}
