package dev.switchboard.r2dbc;

import io.r2dbc.spi.Batch;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Flux;

/**
 * A batch of a {@link RoutedConnection}: results and failures are classified.
 */
final class RoutedBatch implements Batch, Wrapped<Batch> {

	private final Batch delegate;

	private final RoutedConnection connection;

	RoutedBatch(Batch delegate, RoutedConnection connection) {
		this.delegate = delegate;
		this.connection = connection;
	}

	@Override
	public Batch add(String sql) {
		this.delegate.add(sql);
		return this;
	}

	@Override
	public Flux<Result> execute() {
		return this.connection.execute(this.delegate.execute(), null);
	}

	@Override
	public Batch unwrap() {
		return this.delegate;
	}
}
