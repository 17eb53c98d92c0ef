package dev.switchboard.spring;

/**
 * Supplies the current password of datasources whose password rotates, so that a rotated secret
 * applies to new connections without a restart. Declare one bean; the starter looks it up when it
 * builds the datasources of {@code switchboard.datasources}.
 *
 * <pre class="code">
 * &#64;Bean
 * SwitchboardCredentials switchboardCredentials(SecretCache secrets) {
 *     return dataSource -&gt; secrets.current("db/" + dataSource);
 * }
 * </pre>
 *
 * <p>{@link #password(String)} is asked once for each new physical connection of a supplied
 * datasource, primary and replicas alike; connections already open keep the password they logged
 * in with. The driver asks on its own thread, often a Netty event loop: the method must not block.
 * Keep the current secret in memory and refresh it in the background (a secret store's lease
 * renewal, a watched file). A password that fails, or {@code null}, fails that connection with a
 * classified error; the next connection asks again. Supported by r2dbc-postgresql and r2dbc-mysql
 * (MySQL and MariaDB); another driver fails the start naming
 * {@code switchboard.datasources.<name>.password}. The user is
 * {@code switchboard.datasources.<name>.username}, or the URL's. Passwords are never logged.
 */
@FunctionalInterface
public interface SwitchboardCredentials {

	/**
	 * Tell whether this bean supplies the password of a datasource; asked once per datasource at
	 * start-up. A supplied datasource must not set {@code switchboard.datasources.<name>.password}
	 * too (the start fails naming it).
	 * @param dataSource the datasource's name, a key of {@code switchboard.datasources}
	 * @return {@code true} (the default) to supply its password
	 */
	default boolean suppliesPassword(String dataSource) {
		return true;
	}

	/**
	 * Return the current password of a datasource, for a new connection. Must not block.
	 * @param dataSource the datasource's name
	 * @return the password
	 */
	CharSequence password(String dataSource);
}
