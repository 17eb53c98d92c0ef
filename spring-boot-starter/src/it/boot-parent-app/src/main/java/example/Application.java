package example;

import dev.switchboard.api.RoutingContext;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;
import reactor.core.publisher.Mono;

@SpringBootApplication
public class Application {

	public static void main(String[] args) {
		SpringApplication.run(Application.class, args);
	}

	/** Two inserts in one transaction, the second one failing. */
	@Service
	public static class Ledger {

		private final DatabaseClient client;

		Ledger(DatabaseClient client) {
			this.client = client;
		}

		@Transactional
		public Mono<Void> insertThenFail(String id) {
			return this.client.sql("INSERT INTO boot_parent_ledger (id) VALUES (:id)").bind("id", id).then()
					.then(Mono.error(new IllegalStateException("fails after the insert")));
		}

		public Mono<Void> createTable() {
			return this.client.sql("CREATE TABLE IF NOT EXISTS boot_parent_ledger (id VARCHAR(40) PRIMARY KEY)").then()
					.contextWrite(RoutingContext.forTenant("acme"));
		}
	}
}
