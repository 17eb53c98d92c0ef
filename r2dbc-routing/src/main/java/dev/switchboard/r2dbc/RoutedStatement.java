package dev.switchboard.r2dbc;

import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.Wrapped;
import reactor.core.publisher.Flux;

/**
 * A statement of a {@link RoutedConnection}: binds go straight through, results and failures
 * are classified.
 *
 * <p>A bind the driver refuses, and an execution of an incomplete binding, throw the driver's own
 * {@code IllegalArgumentException}, {@code IndexOutOfBoundsException} or
 * {@code IllegalStateException} unchanged: the R2DBC SPI specifies those for a caller's mistake
 * (its TCK checks them), and they never reach a server.
 */
final class RoutedStatement implements Statement, Wrapped<Statement> {

	private final Statement delegate;

	private final RoutedConnection connection;

	/** Read only when the execution fails, to tell a read from a write whose outcome is unknown. */
	private final String sql;

	RoutedStatement(Statement delegate, RoutedConnection connection, String sql) {
		this.delegate = delegate;
		this.connection = connection;
		this.sql = sql;
	}

	@Override
	public Statement add() {
		this.delegate.add();
		return this;
	}

	@Override
	public Statement bind(int index, Object value) {
		this.delegate.bind(index, value);
		return this;
	}

	@Override
	public Statement bind(String name, Object value) {
		this.delegate.bind(name, value);
		return this;
	}

	@Override
	public Statement bindNull(int index, Class<?> type) {
		this.delegate.bindNull(index, type);
		return this;
	}

	@Override
	public Statement bindNull(String name, Class<?> type) {
		this.delegate.bindNull(name, type);
		return this;
	}

	@Override
	public Flux<Result> execute() {
		return this.connection.execute(this.delegate.execute(), this.sql);
	}

	@Override
	public Statement returnGeneratedValues(String... columns) {
		this.delegate.returnGeneratedValues(columns);
		return this;
	}

	@Override
	public Statement fetchSize(int rows) {
		this.delegate.fetchSize(rows);
		return this;
	}

	@Override
	public Statement unwrap() {
		return this.delegate;
	}
}
