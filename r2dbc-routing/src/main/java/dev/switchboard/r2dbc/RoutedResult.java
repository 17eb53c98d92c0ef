package dev.switchboard.r2dbc;

import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

import io.r2dbc.spi.Readable;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * A result of a {@link RoutedConnection}: failures signalled while consuming it (a constraint
 * violation, a serialization failure) are classified.
 */
final class RoutedResult implements Result, Wrapped<Result> {

	private final Result delegate;

	private final RoutedConnection connection;

	RoutedResult(Result delegate, RoutedConnection connection) {
		this.delegate = delegate;
		this.connection = connection;
	}

	@Override
	public Flux<Long> getRowsUpdated() {
		return this.connection.guardMany(this.delegate.getRowsUpdated());
	}

	@Override
	public <T> Flux<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
		return this.connection.guardMany(this.delegate.map(mappingFunction));
	}

	@Override
	public <T> Flux<T> map(Function<? super Readable, ? extends T> mappingFunction) {
		return this.connection.guardMany(this.delegate.map(mappingFunction));
	}

	@Override
	public Result filter(Predicate<Segment> filter) {
		return new RoutedResult(this.delegate.filter(filter), this.connection);
	}

	@Override
	public <T> Flux<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
		return this.connection.guardMany(this.delegate.flatMap(mappingFunction));
	}

	@Override
	public Result unwrap() {
		return this.delegate;
	}
}
