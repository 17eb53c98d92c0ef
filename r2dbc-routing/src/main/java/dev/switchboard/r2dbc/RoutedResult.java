package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Wrapped;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * A result of a {@link RoutedConnection}: failures signalled while consuming it (a constraint
 * violation, a serialization failure) are classified.
 *
 * <p>A result is read once, by its caller or, when the statement was cancelled before the caller
 * read it, by the {@link CancelShield} that reads it to its end so that the driver can go on to
 * the next exchange. Whoever claims it first reads it; the other gets an error (the caller) or
 * nothing to do (the shield).
 */
final class RoutedResult implements Result, Wrapped<Result> {

	private static final AtomicIntegerFieldUpdater<RoutedResult> CLAIMED =
			AtomicIntegerFieldUpdater.newUpdater(RoutedResult.class, "claimed");

	private final Result delegate;

	/** The connection that classifies failures; {@code null} for Switchboard's own queries. */
	private final @Nullable RoutedConnection connection;

	/** The result whose claim this one shares: itself, or the result it was filtered from. */
	private final RoutedResult root;

	/** The statement, read only when reading fails: a write's lost answer is in doubt. */
	private final @Nullable String sql;

	private volatile int claimed;

	RoutedResult(Result delegate, @Nullable RoutedConnection connection, @Nullable String sql) {
		this.delegate = delegate;
		this.connection = connection;
		this.root = this;
		this.sql = sql;
	}

	private RoutedResult(Result delegate, @Nullable RoutedConnection connection, RoutedResult root) {
		this.delegate = delegate;
		this.connection = connection;
		this.root = root;
		this.sql = root.sql;
	}

	/**
	 * Claim this result for its one reading.
	 * @return whether the claim is the first
	 */
	boolean claim() {
		return CLAIMED.compareAndSet(this.root, 0, 1);
	}

	@Override
	public Flux<Long> getRowsUpdated() {
		return Reading.assemble(this, Reading.ROWS_UPDATED, null);
	}

	@Override
	public <T> Flux<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		return Reading.assemble(this, Reading.MAP_ROW, mappingFunction);
	}

	@Override
	public <T> Flux<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		return Reading.assemble(this, Reading.MAP_READABLE, mappingFunction);
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new RoutedResult(this.delegate.filter(filter), this.connection, this.root);
	}

	@Override
	public <T> Flux<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
		return Reading.assemble(this, Reading.FLAT_MAP, mappingFunction);
	}

	/**
	 * Carries a failure of the caller's own mapping code past the classification of the driver's
	 * failures, which unwraps it: the caller gets its own exception back, unchanged.
	 */
	static final class CallerFailure extends RuntimeException {

		private static final long serialVersionUID = 1L;

		CallerFailure(Throwable failure) {
			super(failure.getMessage(), failure, false, false);
		}
	}

	/**
	 * One reading of a result: claimed when subscribed (a reading that is built but never
	 * subscribed leaves the result to the shield), its driver failures classified by the
	 * connection, its caller's failures passed unchanged. A reading of a result already claimed
	 * gets the SPI's {@code IllegalStateException} as it is: the caller's mistake, not the
	 * database's (the {@code onErrorMap} this replaced made it a retried {@code TRANSIENT}
	 * {@code DataError}, and reported the target's health for it). One publisher, which is also the mapping
	 * function of rows it hands the driver, and one subscriber per reading, where a {@code Flux.defer}, an
	 * {@code onErrorMap} and their lambdas took seven objects (issue 20).
	 */
	private static final class Reading<T> extends Flux<T> implements BiFunction<Row, RowMetadata, T> {

		static final int ROWS_UPDATED = 0;

		static final int MAP_ROW = 1;

		static final int MAP_READABLE = 2;

		static final int FLAT_MAP = 3;

		private final RoutedResult result;

		private final int kind;

		/** The caller's mapping function, or {@code null} for {@link #ROWS_UPDATED}. */
		private final @Nullable Object mapping;

		private Reading(RoutedResult result, int kind, @Nullable Object mapping) {
			this.result = result;
			this.kind = kind;
			this.mapping = mapping;
		}

		static <T> Flux<T> assemble(RoutedResult result, int kind, @Nullable Object mapping) {
			return onAssembly(new Reading<>(result, kind, mapping));
		}

		@Override
		public void subscribe(CoreSubscriber<? super T> actual) {
			RoutedConnection connection = this.result.connection;
			if (!this.result.claim()) {
				Operators.error(actual, new IllegalStateException(
						"This result was already read, or was read to its end and dropped after its statement was cancelled"));
				return;
			}
			Flux<T> rows;
			try {
				rows = Flux.from(rows(connection != null));
			}
			catch (Throwable failure) {
				Operators.error(actual, classified(Operators.onOperatorError(failure, actual.currentContext())));
				return;
			}
			rows.subscribe(connection == null ? actual : new Classifying<>(actual, this));
		}

		/** The driver's reading, with this as the mapping function when failures are classified. */
		@SuppressWarnings({ "unchecked", "rawtypes" })
		private Publisher<T> rows(boolean wrapped) {
			Result delegate = this.result.delegate;
			return switch (this.kind) {
				case ROWS_UPDATED -> (Publisher<T>) delegate.getRowsUpdated();
				case MAP_ROW -> delegate.map(wrapped ? this : (BiFunction<Row, RowMetadata, T>) this.mapping);
				case MAP_READABLE -> delegate.map(wrapped ? (Function<Readable, T>) this::applyCaller
						: (Function<Readable, T>) this.mapping);
				default -> delegate.flatMap(wrapped ? (Function) this::applyCaller : (Function) this.mapping);
			};
		}

		/** The caller's failure unwrapped, the driver's classified as the statement's. */
		Throwable classified(Throwable failure) {
			RoutedConnection connection = this.result.connection;
			if (failure instanceof CallerFailure caller) {
				return caller.getCause();
			}
			return connection == null ? failure : connection.classifyStatement(failure, this.result.sql);
		}

		@Override
		@SuppressWarnings("unchecked")
		public T apply(Row row, RowMetadata metadata) {
			try {
				return ((BiFunction<Row, RowMetadata, T>) this.mapping).apply(row, metadata);
			}
			catch (RuntimeException failure) {
				throw new CallerFailure(failure);
			}
		}

		/** The caller's function of a {@code Readable} ({@code map}) or of a {@code Segment} ({@code flatMap}). */
		@SuppressWarnings({ "unchecked", "TypeParameterUnusedInFormals" })
		private <R> R applyCaller(Object element) {
			try {
				Object mapped = ((Function<Object, Object>) this.mapping).apply(element);
				return (R) (this.kind == FLAT_MAP ? Flux.from((Publisher<?>) mapped).onErrorMap(CallerFailure::new) : mapped);
			}
			catch (RuntimeException failure) {
				throw new CallerFailure(failure);
			}
		}
	}

	/** Passes a reading's signals, its failure classified by {@link Reading#classified}. */
	private static final class Classifying<T> implements CoreSubscriber<T>, Subscription {

		private final CoreSubscriber<? super T> actual;

		private final Reading<?> reading;

		private @Nullable Subscription upstream;

		Classifying(CoreSubscriber<? super T> actual, Reading<?> reading) {
			this.actual = actual;
			this.reading = reading;
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
			this.actual.onNext(element);
		}

		@Override
		public void onError(Throwable failure) {
			this.actual.onError(this.reading.classified(failure));
		}

		@Override
		public void onComplete() {
			this.actual.onComplete();
		}

		@Override
		public void request(long n) {
			this.upstream.request(n);
		}

		@Override
		public void cancel() {
			this.upstream.cancel();
		}
	}

	@Override
	public Result unwrap() {
		return this.delegate;
	}
}
