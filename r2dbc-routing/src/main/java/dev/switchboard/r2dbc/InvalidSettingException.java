package dev.switchboard.r2dbc;

/**
 * A setting of a datasource that its builder refused: which datasource, which setting, and what
 * is wrong, apart, so that configuration layers (the Spring Boot starter) can name the setting in
 * their own terms without reading the message.
 */
public final class InvalidSettingException extends IllegalArgumentException {

	private final String dataSource;

	private final String setting;

	private final String problem;

	InvalidSettingException(String dataSource, String setting, String problem) {
		super(setting + " of datasource '" + dataSource + "' " + problem);
		this.dataSource = dataSource;
		this.setting = setting;
		this.problem = problem;
	}

	InvalidSettingException(String dataSource, String setting, String problem, Throwable cause) {
		this(dataSource, setting, problem);
		initCause(cause);
	}

	/**
	 * Return the name of the datasource.
	 * @return the datasource
	 */
	public String dataSource() {
		return this.dataSource;
	}

	/**
	 * Return the setting, as named in configuration, such as {@code causal-wait}.
	 * @return the setting
	 */
	public String setting() {
		return this.setting;
	}

	/**
	 * Return what is wrong with the value, such as {@code must be from 0 to 10s, was PT1M}.
	 * @return the problem
	 */
	public String problem() {
		return this.problem;
	}
}
