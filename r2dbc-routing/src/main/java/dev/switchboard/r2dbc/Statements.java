package dev.switchboard.r2dbc;

import java.util.Locale;
import java.util.Set;

/**
 * What routing tells from a statement's SQL text alone, without parsing it.
 */
final class Statements {

	private Statements() {
	}

	/** Functions a read may call without writing: anything else called may write (nextval, a user's function). */
	private static final Set<String> PURE_FUNCTIONS = Set.of("count", "sum", "min", "max", "avg",
			"coalesce", "lower", "upper", "length", "abs", "round", "cast", "exists", "any", "all", "in", "now",
			"concat", "substring", "trim", "nullif", "greatest", "least", "row", "array", "json_build_object",
			"json_agg", "jsonb_build_object", "jsonb_agg", "json_object", "json_arrayagg", "json_array",
			"string_agg", "group_concat", "if", "ifnull", "date", "extract");

	/**
	 * Tell whether a statement only reads: one statement (no {@code ;} but a trailing one) that
	 * starts, after blanks and comments, with {@code SELECT}, {@code SHOW}, {@code VALUES} or
	 * {@code EXPLAIN} (without {@code ANALYZE}), has no {@code INTO}, and calls no function but
	 * aggregates and a few scalar functions that cannot write. Conservative: anything else, a
	 * {@code WITH}, {@code nextval(...)} or a user's function included, may write.
	 * @param sql the statement
	 * @return {@code true} if it cannot have changed data
	 */
	static boolean isRead(String sql) {
		int at = skipBlanksAndComments(sql, 0);
		boolean select = startsWithWord(sql, at, "select") || startsWithWord(sql, at, "show")
				|| startsWithWord(sql, at, "values");
		boolean explain = startsWithWord(sql, at, "explain") && !containsWord(sql, "analyze");
		if (!select && !explain) {
			return false;
		}
		int semicolon = sql.indexOf(';');
		if (semicolon >= 0 && !sql.substring(semicolon + 1).isBlank()) {
			return false;
		}
		return explain || (!containsWord(sql, "into") && callsOnlyPureFunctions(sql));
	}

	/** Every {@code name(} in the text names a function of {@link #PURE_FUNCTIONS}; string literals included, conservatively. */
	private static boolean callsOnlyPureFunctions(String sql) {
		for (int open = sql.indexOf('('); open >= 0; open = sql.indexOf('(', open + 1)) {
			int end = open;
			while (end > 0 && Character.isWhitespace(sql.charAt(end - 1))) {
				end--;
			}
			int start = end;
			while (start > 0 && (Character.isLetterOrDigit(sql.charAt(start - 1)) || sql.charAt(start - 1) == '_')) {
				start--;
			}
			if (start < end && !PURE_FUNCTIONS.contains(sql.substring(start, end).toLowerCase(Locale.ROOT))
					&& !isKeyword(sql.substring(start, end))) {
				return false;
			}
		}
		return true;
	}

	/** Words that precede a parenthesis without calling anything. */
	private static boolean isKeyword(String word) {
		return switch (word.toLowerCase(Locale.ROOT)) {
			case "select", "from", "where", "and", "or", "not", "on", "as", "join", "values", "union", "by", "having",
					"when", "then", "else", "over", "filter", "using", "lateral", "with" -> true;
			default -> false;
		};
	}

	private static int skipBlanksAndComments(String sql, int from) {
		int at = from;
		while (at < sql.length()) {
			char c = sql.charAt(at);
			if (Character.isWhitespace(c) || c == '(') {
				at++;
			}
			else if (sql.startsWith("--", at)) {
				int end = sql.indexOf('\n', at);
				at = end < 0 ? sql.length() : end + 1;
			}
			else if (sql.startsWith("/*", at)) {
				int end = sql.indexOf("*/", at + 2);
				at = end < 0 ? sql.length() : end + 2;
			}
			else {
				break;
			}
		}
		return at;
	}

	private static boolean startsWithWord(String sql, int at, String word) {
		return sql.regionMatches(true, at, word, 0, word.length())
				&& (at + word.length() == sql.length() || !Character.isLetterOrDigit(sql.charAt(at + word.length())));
	}

	/** {@code SELECT ... INTO} writes on MySQL/MariaDB (into a file or variables) and PostgreSQL (a table). */
	private static boolean containsWord(String sql, String word) {
		for (int at = 0; (at = indexOfIgnoreCase(sql, word, at)) >= 0; at += word.length()) {
			boolean before = at == 0 || !Character.isLetterOrDigit(sql.charAt(at - 1));
			boolean after = at + word.length() == sql.length()
					|| !Character.isLetterOrDigit(sql.charAt(at + word.length()));
			if (before && after) {
				return true;
			}
		}
		return false;
	}

	private static int indexOfIgnoreCase(String sql, String word, int from) {
		for (int at = from; at + word.length() <= sql.length(); at++) {
			if (sql.regionMatches(true, at, word, 0, word.length())) {
				return at;
			}
		}
		return -1;
	}
}
