package dev.switchboard.spring;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports a {@link SwitchboardConfigurationException} as Boot reports its own start failures: a
 * description naming the key and what is wrong, and the action that fixes it, instead of the
 * exception's place deep in a stack trace. Registered in {@code META-INF/spring.factories}.
 */
public final class SwitchboardFailureAnalyzer extends AbstractFailureAnalyzer<SwitchboardConfigurationException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, SwitchboardConfigurationException cause) {
		return new FailureAnalysis("Switchboard could not start: " + cause.getMessage() + ".", cause.action(), cause);
	}
}
