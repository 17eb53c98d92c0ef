package dev.switchboard.spring;

import org.jspecify.annotations.Nullable;
import org.springframework.util.ClassUtils;

/**
 * Checks that the jOOQ on the class path is one Switchboard can work with: 3.20 or newer, whose
 * {@code org.jooq.SubscriberProvider} hands the Reactor Context to the routed factory. Spring
 * Boot's dependency management pins an older jOOQ (Boot 4.0.7: 3.19), so an application under
 * {@code spring-boot-starter-parent} gets it unless it sets {@code jooq.version}; without this
 * check its start fails with a {@code NoClassDefFoundError} deep in a trace.
 */
final class JooqVersion {

	/** The class that Switchboard needs and that jOOQ 3.19 lacks. */
	static final String REQUIRED_CLASS = "org.jooq.SubscriberProvider";

	/** The version the project is built and tested with, to name in the fix. */
	static final String TESTED = "3.21.9";

	private JooqVersion() {
	}

	/**
	 * Fail unless the jOOQ seen by {@code classLoader} has {@link #REQUIRED_CLASS}.
	 * @param classLoader the application's class loader
	 * @throws UnsupportedJooqException naming the version found
	 */
	static void check(@Nullable ClassLoader classLoader) {
		if (!ClassUtils.isPresent(REQUIRED_CLASS, classLoader)) {
			throw new UnsupportedJooqException(found(classLoader), REQUIRED_CLASS);
		}
	}

	/**
	 * Return the version of jOOQ that {@code classLoader} sees, from {@code org.jooq.Constants}.
	 * @param classLoader the class loader
	 * @return for example {@code 3.19.35}, or {@code "unknown"} when there is no jOOQ
	 */
	static String found(@Nullable ClassLoader classLoader) {
		try {
			Class<?> constants = ClassUtils.forName("org.jooq.Constants", classLoader);
			return String.valueOf(constants.getField("FULL_VERSION").get(null));
		}
		catch (ReflectiveOperationException | LinkageError ex) {
			return "unknown";
		}
	}

	/** The jOOQ on the class path is older than Switchboard needs. */
	static final class UnsupportedJooqException extends IllegalStateException {

		private static final long serialVersionUID = 1L;

		private final String version;

		private final String missing;

		UnsupportedJooqException(String version, String missing) {
			super("Switchboard needs jOOQ 3.20 or newer; the class path has " + version + " (it lacks " + missing + ")");
			this.version = version;
			this.missing = missing;
		}

		String version() {
			return this.version;
		}

		String missing() {
			return this.missing;
		}
	}
}
