package dev.switchboard.jooq;

import dev.switchboard.api.AccessIntent;
import org.jooq.CommonTableExpression;
import org.jooq.QueryPart;
import org.jooq.Select;
import org.jooq.VisitContext;
import org.jooq.VisitListener;
import org.jooq.impl.QOM;
import org.jspecify.annotations.Nullable;

/**
 * Carries the intent of the query jOOQ is rendering to the {@link DeferredConnection} that receives
 * its SQL, for the plain routed {@code DSLContext}.
 *
 * <p>jOOQ asks for a connection before it renders a query, then, in one synchronous step on one
 * thread, renders it and calls {@code Connection.createStatement(sql)}. This listener notes, when
 * the top-level query part starts rendering, whether it is a plain select; the connection takes the
 * note in {@code createStatement} and looks for a locking clause in the SQL it is given.
 */
final class IntentInference implements VisitListener {

	static final IntentInference INSTANCE = new IntentInference();

	private static final ThreadLocal<@Nullable AccessIntent> RENDERING = new ThreadLocal<>();

	private static final String[] LOCKING = { " for update", " for no key update", " for share", " for key share",
			" lock in share mode" };

	private IntentInference() {
	}

	@Override
	public void visitStart(VisitContext context) {
		if (context.queryPartsLength() == 1) {
			RENDERING.set(candidate(context.queryPart()));
		}
	}

	static AccessIntent candidate(QueryPart part) {
		if (!(part instanceof Select<?> select)) {
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
		return AccessIntent.READ;
	}

	/**
	 * Take the intent of the statement whose SQL was just rendered on this thread.
	 * @param sql the rendered SQL
	 * @return {@link AccessIntent#READ} for a plain select, {@link AccessIntent#WRITE} otherwise
	 * (a statement rendered without this listener, plain SQL, or a locking select)
	 */
	static AccessIntent take(String sql) {
		AccessIntent candidate = RENDERING.get();
		// set(null), not remove(): the thread keeps its map entry, and the next statement does not
		// allocate a new one.
		RENDERING.set(null);
		if (candidate != AccessIntent.READ) {
			return AccessIntent.WRITE;
		}
		return locks(sql) ? AccessIntent.WRITE : AccessIntent.READ;
	}

	static boolean locks(String sql) {
		for (String locking : LOCKING) {
			if (containsIgnoreCase(sql, locking)) {
				return true;
			}
		}
		return false;
	}

	private static boolean containsIgnoreCase(String text, String lowerCaseNeedle) {
		int last = text.length() - lowerCaseNeedle.length();
		for (int i = 0; i <= last; i++) {
			if (text.regionMatches(true, i, lowerCaseNeedle, 0, lowerCaseNeedle.length())) {
				return true;
			}
		}
		return false;
	}
}
