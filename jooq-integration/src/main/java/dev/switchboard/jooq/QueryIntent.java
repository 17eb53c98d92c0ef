package dev.switchboard.jooq;

import java.util.Locale;

import dev.switchboard.api.AccessIntent;
import org.jooq.CommonTableExpression;
import org.jooq.DSLContext;
import org.jooq.Query;
import org.jooq.Select;
import org.jooq.impl.QOM;

/**
 * Infers the {@link AccessIntent} of a jOOQ query.
 *
 * <p>A {@link Select} is a {@link AccessIntent#READ} unless it locks rows ({@code FOR UPDATE},
 * {@code FOR SHARE} and their variants) or one of its common table expressions is not itself a
 * select (PostgreSQL's data-modifying {@code WITH}). Everything else (insert, update, delete,
 * merge, DDL, plain SQL) is a {@link AccessIntent#WRITE}. Stateless and thread-safe.
 */
public final class QueryIntent {

	private static final String[] LOCKING = { " for update", " for no key update", " for share", " for key share",
			" lock in share mode" };

	private QueryIntent() {
	}

	/**
	 * Return the intent of {@code query}.
	 * @param query any jOOQ query
	 * @param dsl a context with the query's dialect, used to render a select's locking clause
	 * @return {@link AccessIntent#READ} for a non-locking, non-modifying select, else
	 * {@link AccessIntent#WRITE}
	 */
	public static AccessIntent of(Query query, DSLContext dsl) {
		if (!(query instanceof Select<?> select)) {
			return AccessIntent.WRITE;
		}
		QOM.With with = select.$with();
		if (with != null) {
			for (CommonTableExpression<?> cte : with.$commonTableExpressions()) {
				if (!(cte.$query() instanceof Select<?>)) {
					return AccessIntent.WRITE;
				}
			}
		}
		// jOOQ's query object model has no accessor for the locking clause; its rendering does.
		String sql = dsl.render(select).toLowerCase(Locale.ROOT);
		for (String locking : LOCKING) {
			if (sql.contains(locking)) {
				return AccessIntent.WRITE;
			}
		}
		return AccessIntent.READ;
	}
}
