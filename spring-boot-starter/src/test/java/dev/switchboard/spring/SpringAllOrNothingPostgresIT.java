package dev.switchboard.spring;

import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Topology;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link SpringAllOrNothing} on POSTGRESQL: two tenants, each with its own database.
 */
@ExtendWith(DevDatabases.class)
@SpringBootTest(classes = SpringAllOrNothingApp.class, webEnvironment = SpringBootTest.WebEnvironment.NONE)
class SpringAllOrNothingPostgresIT extends SpringAllOrNothing {

	@DynamicPropertySource
	static void switchboard(DynamicPropertyRegistry properties) {
		properties(properties, Topology.Kind.POSTGRESQL);
	}

	@Override
	Topology.Kind kind() {
		return Topology.Kind.POSTGRESQL;
	}
}
