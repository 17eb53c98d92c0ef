package dev.switchboard.jooq;

import java.util.function.Consumer;

import org.jooq.SubscriberProvider;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.util.context.Context;

/**
 * Hands the Reactor {@link Context} of the subscriber of a jOOQ publisher to every subscription
 * jOOQ makes on its behalf, above all to {@code ConnectionFactory.create()}, where routing reads it.
 *
 * <p>Without it, jOOQ subscribes to the connection factory with context-less subscribers and
 * routing sees no tenant. jOOQ's own Reactor adapter ({@code jooq-reactor-extensions}) is not
 * available here, so Switchboard ships this one and installs it on every {@code DSLContext} it
 * builds. Stateless and thread-safe: use {@link #INSTANCE}.
 */
public final class ReactorSubscriberProvider implements SubscriberProvider<Context> {

	/** The shared instance. */
	public static final ReactorSubscriberProvider INSTANCE = new ReactorSubscriberProvider();

	private ReactorSubscriberProvider() {
	}

	@Override
	public Context context() {
		return Context.empty();
	}

	@Override
	public Context context(Subscriber<?> subscriber) {
		return subscriber instanceof CoreSubscriber<?> core ? core.currentContext() : Context.empty();
	}

	@Override
	public <T> Subscriber<T> subscriber(Consumer<? super Subscription> onSubscribe, Consumer<? super T> onNext,
			Consumer<? super Throwable> onError, Runnable onComplete, Context context) {
		return new ContextSubscriber<>(onSubscribe, onNext, onError, onComplete, context);
	}

	/** A subscriber of plain callbacks that reports the context it was made with. */
	private static final class ContextSubscriber<T> implements CoreSubscriber<T> {

		private final Consumer<? super Subscription> onSubscribe;

		private final Consumer<? super T> onNext;

		private final Consumer<? super Throwable> onError;

		private final Runnable onComplete;

		private final Context context;

		ContextSubscriber(Consumer<? super Subscription> onSubscribe, Consumer<? super T> onNext,
				Consumer<? super Throwable> onError, Runnable onComplete, Context context) {
			this.onSubscribe = onSubscribe;
			this.onNext = onNext;
			this.onError = onError;
			this.onComplete = onComplete;
			this.context = context;
		}

		@Override
		public Context currentContext() {
			return this.context;
		}

		@Override
		public void onSubscribe(Subscription subscription) {
			this.onSubscribe.accept(subscription);
		}

		@Override
		public void onNext(T value) {
			this.onNext.accept(value);
		}

		@Override
		public void onError(Throwable failure) {
			this.onError.accept(failure);
		}

		@Override
		public void onComplete() {
			this.onComplete.run();
		}
	}
}
