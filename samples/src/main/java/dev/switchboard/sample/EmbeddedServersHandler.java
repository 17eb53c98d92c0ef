package dev.switchboard.sample;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import dev.switchboard.embedded.EmbeddedTopology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.Result;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

/**
 * The sample's admin API for its embedded servers: list them, kill one as a crash would, start it
 * again, and read the notes of one server directly, past Switchboard (to see what a replica has).
 *
 * <p>Only with the embedded topology. Tenant-less, like the actuator: {@code /sample/**} is
 * excluded from the tenant filter. Killing and starting block for up to seconds, so they run on
 * the bounded-elastic scheduler.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(name = "sample.embedded.enabled", havingValue = "true")
class EmbeddedServersHandler {

	private final EmbeddedTopology topology;

	EmbeddedServersHandler(@Qualifier(EmbeddedDatabases.BEAN) EmbeddedTopology topology) {
		this.topology = topology;
	}

	@Bean
	RouterFunction<ServerResponse> embeddedServersRoutes() {
		return route()
				.GET("/sample/servers", this::list)
				.POST("/sample/servers/{server}/kill", request -> change(request, this.topology::kill))
				.POST("/sample/servers/{server}/start", request -> change(request, this.topology::start))
				.GET("/sample/servers/{server}/notes", this::notesOn)
				.POST("/sample/catalog", this::addToCatalog)
				.build();
	}

	Mono<ServerResponse> list(ServerRequest request) {
		List<Map<String, Object>> servers = this.topology.servers().stream().map(this::describe).toList();
		return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(servers);
	}

	private Mono<ServerResponse> change(ServerRequest request, Consumer<String> action) {
		String name = request.pathVariable("server");
		return Mono.fromCallable(() -> {
			action.accept(name);
			return describe(this.topology.server(name));
		})
			.subscribeOn(Schedulers.boundedElastic())
			.flatMap(server -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(server))
			.onErrorResume(IllegalArgumentException.class, ex -> notFound(ex));
	}

	/** The notes as one server has them, read with a connection of its own: no routing, no pin. */
	Mono<ServerResponse> notesOn(ServerRequest request) {
		EmbeddedTopology.Server server;
		try {
			server = this.topology.server(request.pathVariable("server"));
		}
		catch (IllegalArgumentException ex) {
			return notFound(ex);
		}
		ConnectionFactory direct = ConnectionFactories.get(url(server));
		Flux<Map<String, String>> notes = Flux.usingWhen(direct.create(),
				connection -> Flux.from(connection.createStatement("SELECT id, body FROM sample_notes ORDER BY id").execute())
					.flatMap(result -> result.map((row, metadata) -> Map.of("id", row.get("id", String.class), "body",
							String.valueOf(row.get("body", String.class))))),
				Connection::close);
		return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).header(ServedBy.HEADER, server.name() + " (direct)")
			.body(notes, Map.class);
	}

	/**
	 * Insert a row into the tenant catalog on the PostgreSQL primary, with a connection of its own,
	 * as {@code psql} would: {@code POST /sample/catalog?tenant=initech&datasource=acme-db}. The
	 * directory learns of it from the catalog (its NOTIFY trigger, else the next refresh), not from
	 * this handler.
	 */
	Mono<ServerResponse> addToCatalog(ServerRequest request) {
		String tenant = request.queryParam("tenant").orElse(null);
		String dataSource = request.queryParam("datasource").orElse("acme-db");
		if (tenant == null) {
			return ServerResponse.badRequest().bodyValue("name the tenant: POST /sample/catalog?tenant=initech&datasource=acme-db\n");
		}
		ConnectionFactory direct = ConnectionFactories.get(url(this.topology.server("postgres-primary")));
		Mono<Long> inserted = Mono.usingWhen(direct.create(),
				connection -> Flux.from(connection.createStatement("INSERT INTO " + EmbeddedDatabases.CATALOG
								+ " (tenant_id, datasource, state) VALUES ($1, $2, 'active')"
								+ " ON CONFLICT (tenant_id) DO UPDATE SET datasource = EXCLUDED.datasource, state = 'active'")
						.bind("$1", tenant).bind("$2", dataSource).execute())
					.flatMap(Result::getRowsUpdated).reduce(0L, Long::sum),
				Connection::close);
		return inserted.flatMap(rows -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
				.bodyValue(Map.of("tenant", tenant, "datasource", dataSource, "rows", rows)));
	}

	private Map<String, Object> describe(EmbeddedTopology.Server server) {
		return Map.of("name", server.name(), "address", server.address(), "running", this.topology.isRunning(server.name()));
	}

	static String url(EmbeddedTopology.Server server) {
		return server.name().startsWith("postgres")
				? "r2dbc:postgresql://postgres@" + server.address() + "/" + EmbeddedTopology.DATABASE
				: "r2dbc:mysql://switchboard@" + server.address() + "/" + EmbeddedTopology.DATABASE + "?sslMode=DISABLED";
	}

	private static Mono<ServerResponse> notFound(IllegalArgumentException ex) {
		return ServerResponse.status(HttpStatus.NOT_FOUND).contentType(MediaType.APPLICATION_PROBLEM_JSON)
			.bodyValue(Map.of("title", "No such server", "status", 404, "detail", ex.getMessage()));
	}
}
