package dev.switchboard.r2dbc;

/**
 * What routing tells from a statement's SQL text alone, without parsing it.
 */
final class Statements {

	private Statements() {
	}

	/**
	 * Tell whether a statement only reads: it starts, after blanks and comments are skipped, with
	 * {@code SELECT}, {@code SHOW}, {@code VALUES} or {@code EXPLAIN} (without {@code ANALYZE},
	 * which runs the statement). Conservative: anything else, a {@code WITH} included, may write.
	 * @param sql the statement
	 * @return {@code true} if it cannot have changed data
	 */
	static boolean isRead(String sql) {
		int at = skipBlanksAndComments(sql, 0);
		if (startsWithWord(sql, at, "select") || startsWithWord(sql, at, "show") || startsWithWord(sql, at, "values")) {
			return !containsWord(sql, "into");
		}
		return startsWithWord(sql, at, "explain") && !containsWord(sql, "analyze");
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
