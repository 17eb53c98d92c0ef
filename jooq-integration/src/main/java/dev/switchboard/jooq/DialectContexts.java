package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import io.r2dbc.spi.Connection;
import org.jooq.Configuration;
import org.jooq.DSLContext;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;

/**
 * The contexts of one datasource, built once at boot by {@link RoutedDsl} and used by it and by
 * {@link TenantDatabase}: one for the facade's calls, which infer each query's intent from the
 * query they hold ({@link FacadeCall}), one for reads, one for writes, and the configuration that
 * transactions derive theirs from.
 */
record DialectContexts(DataSource dataSource, SQLDialect dialect, DSLContext inferring, DSLContext read,
		DSLContext write, Configuration configuration) {

	DSLContext forIntent(AccessIntent intent) {
		return intent == AccessIntent.READ ? this.read : this.write;
	}

	/** A context whose statements all run on {@code connection}: a transaction's, or a savepoint's scope. */
	DSLContext on(Connection connection) {
		return DSL.using(this.configuration.derive(new SingleConnectionFactory(connection)));
	}
}
