package dev.switchboard.spring;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.Ordered;
import org.springframework.util.ClassUtils;

/**
 * Reports a jOOQ too old for Switchboard, the usual case being Spring Boot's dependency management
 * pinning its own jOOQ: from the starter's own check ({@link JooqVersion}), or from a
 * {@code NoClassDefFoundError} of a jOOQ class met before that check ran. Names the version found
 * and the {@code jooq.version} property that fixes it. Registered in
 * {@code META-INF/spring.factories}.
 */
public final class JooqVersionFailureAnalyzer implements FailureAnalyzer, Ordered {

	private static final String ACTION = "Use jOOQ " + JooqVersion.TESTED + " (or any 3.20 or newer). Under"
			+ " spring-boot-starter-parent, or with spring-boot-dependencies imported, set the version Boot manages:\n\n"
			+ "    <properties>\n        <jooq.version>" + JooqVersion.TESTED + "</jooq.version>\n    </properties>\n\n"
			+ "(Gradle: ext['jooq.version'] = '" + JooqVersion.TESTED + "'.) jOOQ 3.21 needs Java 21.";

	@Override
	public FailureAnalysis analyze(Throwable failure) {
		for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
			if (cause instanceof JooqVersion.UnsupportedJooqException unsupported) {
				return analysis(unsupported.version(), unsupported.missing(), failure);
			}
			if (cause instanceof NoClassDefFoundError missing && missing.getMessage() != null
					&& missing.getMessage().startsWith("org/jooq/")) {
				return analysis(JooqVersion.found(ClassUtils.getDefaultClassLoader()),
						missing.getMessage().replace('/', '.'), failure);
			}
		}
		return null;
	}

	private static FailureAnalysis analysis(String version, String missing, Throwable failure) {
		return new FailureAnalysis("Switchboard needs jOOQ 3.20 or newer; your build has jOOQ " + version + ", which lacks "
				+ missing + ".", ACTION, failure);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}
}
