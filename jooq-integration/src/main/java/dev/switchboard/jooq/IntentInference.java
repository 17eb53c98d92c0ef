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
 * Tells a query's intent from the query object and its SQL: a select that neither locks rows nor
 * modifies data in a {@code WITH} is a read; anything else, plain SQL included, a write.
 *
 * <p>For the plain routed {@code DSLContext}, this visit listener carries the query object's half to
 * the {@link DeferredConnection} that receives its SQL: jOOQ asks for a connection before it renders
 * a query, then, in one synchronous step on one thread, renders it and calls
 * {@code Connection.createStatement(sql)}. The listener notes, when the top-level query part starts
 * rendering, whether it is a plain select; the connection takes the note in {@code createStatement}
 * and looks for a locking clause in the SQL it is given. The facade ({@link TenantDatabase}) holds
 * the query object before it runs it, so its contexts have no listener: a listener makes jOOQ track
 * every query part it renders (about 0.8 µs and 260 bytes more for a primary-key select, measured
 * for issue 20), and the facade hands the {@link #candidate} to the connection in its
 * {@link FacadeCall} instead.
 */
final class IntentInference implements VisitListener {

	static final IntentInference INSTANCE = new IntentInference();

	private static final ThreadLocal<@Nullable AccessIntent> RENDERING = new ThreadLocal<>();

	private static final String[] LOCKING = { "for update", "for no key update", "for share", "for key share",
			"lock in share mode" };

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
		return refine(candidate, sql);
	}

	/**
	 * Tell the intent of a statement from the intent of its query object and its SQL.
	 * @param candidate what {@link #candidate} said of the query object, or {@code null} if unknown
	 * @param sql the rendered SQL
	 * @return {@link AccessIntent#READ} for a plain select without a locking clause,
	 * {@link AccessIntent#WRITE} otherwise
	 */
	static AccessIntent refine(@Nullable AccessIntent candidate, String sql) {
		if (candidate != AccessIntent.READ) {
			return AccessIntent.WRITE;
		}
		return locks(sql) ? AccessIntent.WRITE : AccessIntent.READ;
	}

	/**
	 * Whether the SQL has a locking clause after a blank (a space, or the line break of formatted
	 * SQL). One pass over the text that tries the clauses only at an {@code f} or an {@code l} after
	 * a blank: a case-insensitive search of each clause from every position took 5 region
	 * comparisons per character (issue 20's profile).
	 */
	static boolean locks(String sql) {
		int last = sql.length() - 1;
		for (int i = 0; i < last; i++) {
			char next = sql.charAt(i + 1);
			if ((next == 'f' || next == 'F' || next == 'l' || next == 'L') && Character.isWhitespace(sql.charAt(i))
					&& locksAt(sql, i + 1)) {
				return true;
			}
		}
		return false;
	}

	private static boolean locksAt(String sql, int at) {
		for (String locking : LOCKING) {
			if (sql.regionMatches(true, at, locking, 0, locking.length())) {
				return true;
			}
		}
		return false;
	}
}
