package dev.switchboard.spring;

/**
 * A {@code switchboard.*} setting that cannot work; the application does not start.
 *
 * <p>The message names the key and says what is wrong with its value.
 */
public final class SwitchboardConfigurationException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final String key;

	SwitchboardConfigurationException(String key, String problem, Throwable cause) {
		super(key + " " + problem, cause);
		this.key = key;
	}

	SwitchboardConfigurationException(String key, String problem) {
		super(key + " " + problem);
		this.key = key;
	}

	/**
	 * Return the configuration key at fault.
	 * @return for example {@code switchboard.datasources.pg-main.primary}
	 */
	public String key() {
		return this.key;
	}
}
