package dev.switchboard.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A notes service with two tenants: {@code acme} on PostgreSQL and {@code globex} on MariaDB,
 * each a primary with replicas. By default ({@code embedded} profile) the service starts those
 * servers itself ({@link EmbeddedDatabases}); with the {@code devdb} profile it uses the servers of
 * {@code scripts/dev-db.sh}; with the {@code h2} profile both tenants live on an in-memory H2 demo
 * topology, for a machine where the embedded servers cannot start.
 */
@SpringBootApplication
public class SampleApplication {

	/**
	 * Start the service.
	 * @param args Spring Boot arguments, for example {@code --spring.profiles.active=devdb}
	 */
	public static void main(String[] args) {
		SpringApplication application = new SpringApplication(SampleApplication.class);
		application.addInitializers(new EmbeddedDatabases());
		application.run(args);
	}
}
