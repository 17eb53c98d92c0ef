package dev.switchboard.sample;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/**
 * Reports embedded servers that did not start as Boot reports a failed start: what went wrong
 * (a taken port, a live run on the same folder, a server's log), and what to do: other ports, or,
 * where the servers cannot run at all, the H2 demo or the dev-db servers. Registered in
 * {@code META-INF/spring.factories}.
 */
public final class EmbeddedDatabasesFailureAnalyzer extends AbstractFailureAnalyzer<EmbeddedDatabasesException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, EmbeddedDatabasesException cause) {
		String action = """
				If a port is taken, give that server another one, for example
				    scripts/run-sample.sh --sample.embedded.ports.postgres-primary=64432
				(the six sample.embedded.ports.* are in application-embedded.yml). If another run holds %s,
				stop it or give this one another folder (--sample.embedded.folder=...).
				Where these servers cannot run at all (their binaries are for Linux on x86-64), run the H2 demo,
				which shows the routing but not replication:
				    scripts/run-sample.sh --spring.profiles.active=h2
				or the servers of scripts/dev-db.sh:
				    scripts/dev-db.sh up && scripts/run-sample.sh --spring.profiles.active=devdb"""
			.formatted(cause.folder());
		return new FailureAnalysis(cause.getMessage(), action, cause);
	}
}
