package dev.switchboard.spring;

import java.util.Comparator;
import java.util.List;

import org.springframework.boot.context.properties.bind.UnboundConfigurationPropertiesException;
import org.springframework.boot.context.properties.source.ConfigurationProperty;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.core.Ordered;

/**
 * Reports {@code switchboard.*} keys that no setting declares (Boot's binder refuses them, since
 * {@link SwitchboardProperties} does not ignore unknown fields), each with where it was set and the
 * closest valid key, so that {@code replcias} or {@code max-sise} stop the start instead of being
 * ignored. Ordered before Boot's own report of unbound keys, which gives no suggestion.
 */
public final class UnknownKeyFailureAnalyzer extends AbstractFailureAnalyzer<UnboundConfigurationPropertiesException>
		implements Ordered {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, UnboundConfigurationPropertiesException cause) {
		List<ConfigurationProperty> unknown = cause.getUnboundProperties().stream()
				.filter(property -> property.getName().toString().startsWith(SwitchboardKeys.PREFIX + "."))
				.sorted(Comparator.comparing(property -> property.getName().toString()))
				.toList();
		if (unknown.isEmpty()) {
			return null;
		}
		StringBuilder description = new StringBuilder("Switchboard could not start: ")
				.append(unknown.size() == 1 ? "a key is" : unknown.size() + " keys are").append(" not a Switchboard setting:\n");
		for (ConfigurationProperty property : unknown) {
			String closest = SwitchboardKeys.closest(property.getName());
			description.append("\n    ").append(property.getName())
					.append(closest != null ? ": did you mean " + closest + "?" : ": no setting is close to it");
			if (property.getOrigin() != null) {
				description.append(" (set in ").append(property.getOrigin()).append(')');
			}
		}
		return new FailureAnalysis(description.toString(),
				"Correct or remove the key in the application's configuration. The settings are listed, with their"
						+ " defaults, in the starter's configuration metadata (IDE completion) and in the README.",
				cause);
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE;
	}
}
