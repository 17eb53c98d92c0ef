package dev.switchboard.r2dbc;

/**
 * Checks names given in configuration, and keeps secrets out of messages.
 */
final class Names {

	private Names() {
	}

	static String requireValid(String setting, String name) {
		if (name == null || name.isEmpty() || name.length() > 64) {
			throw new IllegalArgumentException(setting + " must be 1 to 64 characters, was "
					+ (name == null ? "null" : "'" + name + "'"));
		}
		for (int i = 0; i < name.length(); i++) {
			char c = name.charAt(i);
			boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
					|| (i > 0 && (c == '-' || c == '_' || c == '.'));
			if (!ok) {
				throw new IllegalArgumentException(setting + " must match [A-Za-z0-9][A-Za-z0-9._-]*, was '" + name + "'");
			}
		}
		return name;
	}

	/** Hide the password of a URL such as {@code r2dbc:postgresql://user:secret@host/db}. */
	static String redact(String url) {
		int scheme = url.indexOf("://");
		int at = url.indexOf('@', scheme + 3);
		if (scheme < 0 || at < 0) {
			return url;
		}
		int colon = url.indexOf(':', scheme + 3);
		return colon > 0 && colon < at ? url.substring(0, colon + 1) + "****" + url.substring(at) : url;
	}
}
