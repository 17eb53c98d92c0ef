package dev.switchboard.r2dbc;

import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.function.Supplier;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Wrapped;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

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
		return read(this.delegate::getRowsUpdated);
	}

	@Override
	public <T> Flux<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		if (this.connection == null) {
			return read(() -> this.delegate.map(mappingFunction));
		}
		return read(() -> this.delegate.map((row, metadata) -> {
			try {
				return mappingFunction.apply(row, metadata);
			}
			catch (RuntimeException failure) {
				throw new CallerFailure(failure);
			}
		}));
	}

	@Override
	public <T> Flux<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		if (this.connection == null) {
			return read(() -> this.delegate.map(mappingFunction));
		}
		return read(() -> this.delegate.map(readable -> {
			try {
				return mappingFunction.apply(readable);
			}
			catch (RuntimeException failure) {
				throw new CallerFailure(failure);
			}
		}));
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new RoutedResult(this.delegate.filter(filter), this.connection, this.root);
	}

	@Override
	public <T> Flux<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
		if (this.connection == null) {
			return read(() -> this.delegate.flatMap(mappingFunction));
		}
		return read(() -> this.delegate.flatMap(segment -> {
			try {
				return Flux.<T>from(mappingFunction.apply(segment)).onErrorMap(CallerFailure::new);
			}
			catch (RuntimeException failure) {
				throw new CallerFailure(failure);
			}
		}));
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

	/** Claimed when subscribed: a reading that is built but never subscribed leaves it to the shield. */
	private <T> Flux<T> read(Supplier<Publisher<T>> reading) {
		Flux<T> rows = Flux.defer(() -> claim() ? reading.get() : Flux.error(new IllegalStateException(
				"This result was already read, or was read to its end and dropped after its statement was cancelled")));
		return this.connection == null ? rows : this.connection.guardMany(rows, this.sql);
	}

	@Override
	public Result unwrap() {
		return this.delegate;
	}
}
