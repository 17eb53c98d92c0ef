package dev.switchboard.sample;

import java.util.Map;
import java.util.UUID;

import dev.switchboard.jooq.TenantDatabase;
import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;
import static org.springframework.web.reactive.function.server.RouterFunctions.route;

/**
 * The notes API. Nothing here names a tenant, a server or an engine: the tenant comes from the
 * caller's token through Switchboard's filter (see {@link SampleSecurity}), and every query is
 * routed by it.
 */
@Configuration(proxyBeanMethods = false)
class NotesHandler {

	static final Table<Record> NOTES = table(name("sample_notes"));

	static final Field<String> ID = field(name("id"), String.class);

	static final Field<String> BODY = field(name("body"), String.class);

	private final TenantDatabase db;

	NotesHandler(TenantDatabase db) {
		this.db = db;
	}

	@Bean
	RouterFunction<ServerResponse> notesRoutes() {
		return route()
				.GET("/notes", this::list)
				.POST("/notes", this::create)
				.POST("/notes/pair", this::createPair)
				.build();
	}

	/** A read: a replica serves it. */
	Mono<ServerResponse> list(ServerRequest request) {
		Flux<Map<String, String>> notes = this.db.query(dsl -> dsl.select(ID, BODY).from(NOTES).orderBy(ID))
				.map(note -> Map.of("id", note.value1(), "body", note.value2()));
		return ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).body(notes, Map.class);
	}

	/** A write, then a read in the same request: the pin sends the read to the primary, which has the write. */
	Mono<ServerResponse> create(ServerRequest request) {
		String id = UUID.randomUUID().toString();
		Mono<Map<String, String>> created = request.bodyToMono(String.class).defaultIfEmpty("(empty)")
				.flatMap(body -> this.db.execute(dsl -> dsl.insertInto(NOTES, ID, BODY).values(id, body)))
				.then(this.db.query(dsl -> dsl.select(ID, BODY).from(NOTES).where(ID.eq(id))).next())
				.map(note -> Map.of("id", note.value1(), "body", note.value2()));
		return created.flatMap(note -> ServerResponse.ok().contentType(MediaType.APPLICATION_JSON).bodyValue(note));
	}

	/** Two notes in one transaction on the tenant's primary: both or neither. */
	Mono<ServerResponse> createPair(ServerRequest request) {
		String first = UUID.randomUUID().toString();
		String second = UUID.randomUUID().toString();
		Mono<Integer> pair = this.db.transactional(dsl -> Mono.from(dsl.insertInto(NOTES, ID, BODY).values(first, "first of a pair"))
						.then(Mono.from(dsl.insertInto(NOTES, ID, BODY).values(second, "second of a pair"))))
				.last();
		return pair.then(ServerResponse.ok().contentType(MediaType.APPLICATION_JSON)
				.bodyValue(Map.of("ids", new String[] { first, second })));
	}
}
