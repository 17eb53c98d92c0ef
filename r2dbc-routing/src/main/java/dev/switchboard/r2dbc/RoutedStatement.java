package dev.switchboard.r2dbc;

import dev.switchboard.api.DataError;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Statement;
import io.r2dbc.spi.Wrapped;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Flux;

/**
 * A statement of a {@link RoutedConnection}: binds go straight through, results and failures
 * are classified.
 *
 * <p>A driver that refuses a bind, an {@code add()} or an {@code execute()} (a marker that its
 * SQL does not have, a missing value) throws its own {@code IndexOutOfBoundsException} or
 * {@code IllegalArgumentException}; it leaves as a permanent {@link DataError} naming the tenant,
 * datasource and role, the driver's exception the cause (issue 14: a {@code DatabaseClient} with
 * another engine's bind markers).
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
		try {
			this.delegate.add();
		}
		catch (RuntimeException ex) {
			throw refused(ex, "add() a binding set");
		}
		return this;
	}

	@Override
	public Statement bind(int index, Object value) {
		try {
			this.delegate.bind(index, value);
		}
		catch (RuntimeException ex) {
			throw refused(ex, "bind index " + index);
		}
		return this;
	}

	@Override
	public Statement bind(String name, Object value) {
		try {
			this.delegate.bind(name, value);
		}
		catch (RuntimeException ex) {
			throw refused(ex, "bind '" + name + "'");
		}
		return this;
	}

	@Override
	public Statement bindNull(int index, Class<?> type) {
		try {
			this.delegate.bindNull(index, type);
		}
		catch (RuntimeException ex) {
			throw refused(ex, "bind null to index " + index);
		}
		return this;
	}

	@Override
	public Statement bindNull(String name, Class<?> type) {
		try {
			this.delegate.bindNull(name, type);
		}
		catch (RuntimeException ex) {
			throw refused(ex, "bind null to '" + name + "'");
		}
		return this;
	}

	@Override
	public Flux<Result> execute() {
		Publisher<? extends Result> results;
		try {
			results = this.delegate.execute();
		}
		catch (RuntimeException ex) {
			return Flux.error(refused(ex, "execute the statement"));
		}
		return this.connection.execute(results, this.sql);
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

	/** The driver refused an operation before anything reached the server: the caller's mistake. */
	private DataError refused(RuntimeException failure, String operation) {
		if (failure instanceof DataError error) {
			return error;
		}
		DataError error = new DataError(DataError.Kind.PERMANENT,
				"the driver refused to " + operation + ": " + failure, this.connection.tenant().value(),
				this.connection.target().dataSource().name(), this.connection.role(), null, failure);
		this.connection.listener.failed(this.connection.context, error);
		return error;
	}

	@Override
	public Statement unwrap() {
		return this.delegate;
	}
}
