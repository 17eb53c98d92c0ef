package dev.switchboard.api;

import org.jspecify.annotations.Nullable;

/**
 * The rule for the names Switchboard routes by, in one place: tenant ids ({@link TenantId}),
 * datasource names, and the datasource named in a {@link CausalToken}. A name is 1 to
 * {@value #MAX_LENGTH} characters from {@code [A-Za-z0-9._-]} and starts with a letter or a digit,
 * so that it is safe in logs, metric tags, headers and URLs.
 */
public final class Names {

	/** The most characters a name may have. */
	public static final int MAX_LENGTH = 64;

	private Names() {
	}

	/**
	 * Tell whether {@code name} follows the rule.
	 * @param name the name
	 * @return {@code true} if it does
	 */
	public static boolean isValid(@Nullable String name) {
		return problem(name) == null;
	}

	/**
	 * Return a name that follows the rule.
	 * @param setting what the name is, for the message, such as {@code datasource name}
	 * @param name the name
	 * @return the name
	 * @throws IllegalArgumentException naming the setting, the name and what is wrong with it
	 */
	public static String requireValid(String setting, @Nullable String name) {
		String problem = problem(name);
		if (problem != null) {
			throw new IllegalArgumentException(setting + " " + problem
					+ (name == null || name.isEmpty() ? "" : ": '" + name + "'"));
		}
		return name;
	}

	/**
	 * Say what is wrong with a name.
	 * @param name the name
	 * @return the problem, such as {@code must start with a letter or a digit}, or {@code null}
	 * when the name follows the rule
	 */
	public static @Nullable String problem(@Nullable String name) {
		if (name == null) {
			return "must not be null";
		}
		int length = name.length();
		if (length == 0) {
			return "must not be empty";
		}
		if (length > MAX_LENGTH) {
			return "must be at most " + MAX_LENGTH + " characters, was " + length;
		}
		if (!isLetterOrDigit(name.charAt(0))) {
			return "must start with a letter or a digit";
		}
		for (int i = 1; i < length; i++) {
			char c = name.charAt(i);
			if (!isLetterOrDigit(c) && c != '-' && c != '_' && c != '.') {
				return "must contain only [A-Za-z0-9._-], found " + describe(c) + " at index " + i;
			}
		}
		return null;
	}

	private static boolean isLetterOrDigit(char c) {
		return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
	}

	/** A character as a message may show it: printable ASCII as itself, anything else as its code point. */
	private static String describe(char c) {
		return c > ' ' && c < 0x7F ? "'" + c + "'" : String.format("U+%04X", (int) c);
	}
}
