package dev.switchboard.spring;

import org.jspecify.annotations.Nullable;

/**
 * A {@code switchboard.*} setting that cannot work; the application does not start.
 *
 * <p>The message names the key and says what is wrong with its value; {@link #action()} says what
 * to do about it. Boot prints both as a failure report ({@link SwitchboardFailureAnalyzer}).
 */
public final class SwitchboardConfigurationException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final String key;

	private final @Nullable String action;

	SwitchboardConfigurationException(String key, String problem, Throwable cause) {
		this(key, problem, null, cause);
	}

	SwitchboardConfigurationException(String key, String problem) {
		this(key, problem, null, null);
	}

	SwitchboardConfigurationException(String key, String problem, @Nullable String action, @Nullable Throwable cause) {
		super(key + " " + problem, cause);
		this.key = key;
		this.action = action;
	}

	/**
	 * Return the configuration key at fault.
	 * @return for example {@code switchboard.datasources.pg-main.primary}
	 */
	public String key() {
		return this.key;
	}

	/**
	 * Return what to do about it.
	 * @return the action, by default to correct the key's value
	 */
	public String action() {
		return this.action != null ? this.action
				: "Correct '" + this.key + "' in the application's configuration (application.yml or application.properties).";
	}
}
