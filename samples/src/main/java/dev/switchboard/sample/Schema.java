package dev.switchboard.sample;

import dev.switchboard.api.DataSource;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import dev.switchboard.jooq.TenantDatabase;
import dev.switchboard.r2dbc.RoutingConnectionFactory;
import org.springframework.boot.ApplicationRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.jooq.impl.SQLDataType;
import reactor.core.publisher.Flux;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Creates the notes table on every datasource at start, through the same facade as the API, so
 * that jOOQ renders the DDL in each datasource's dialect.
 */
@Configuration(proxyBeanMethods = false)
class Schema {

	@Bean
	ApplicationRunner createNotesTable(RoutingConnectionFactory routing, TenantDatabase db) {
		return arguments -> {
			// One tenant per datasource is enough: tenants sharing a datasource share its tables.
			Map<DataSource, TenantId> tenantOf = new LinkedHashMap<>();
			routing.registry().tenants().forEach(tenant -> tenantOf.putIfAbsent(routing.registry().obtainDataSource(tenant), tenant));
			Flux.fromIterable(tenantOf.values())
					.concatMap(tenant -> db.execute(dsl -> dsl.createTableIfNotExists(NotesHandler.NOTES)
									.column(NotesHandler.ID, SQLDataType.VARCHAR(36).notNull())
									.column(NotesHandler.BODY, SQLDataType.VARCHAR(500))
									.primaryKey(NotesHandler.ID))
							.contextWrite(RoutingContext.forTenant(tenant)))
					.blockLast(Duration.ofSeconds(30));
		};
	}
}
