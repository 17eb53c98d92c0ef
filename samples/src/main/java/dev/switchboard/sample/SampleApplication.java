package dev.switchboard.sample;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A notes service with two tenants, {@code acme} and {@code globex}. By default both live on an
 * in-memory H2 demo topology; with the {@code devdb} profile, acme lives on the PostgreSQL and
 * globex on the MariaDB servers of {@code scripts/dev-db.sh}, primaries and replicas.
 */
@SpringBootApplication
public class SampleApplication {

	/**
	 * Start the service.
	 * @param args Spring Boot arguments, for example {@code --spring.profiles.active=devdb}
	 */
	public static void main(String[] args) {
		SpringApplication.run(SampleApplication.class, args);
	}
}
