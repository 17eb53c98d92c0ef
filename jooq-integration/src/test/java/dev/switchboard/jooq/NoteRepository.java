package dev.switchboard.jooq;

import org.jooq.Field;
import org.jooq.Record;
import org.jooq.Table;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

import static org.jooq.impl.DSL.field;
import static org.jooq.impl.DSL.name;
import static org.jooq.impl.DSL.table;

/**
 * Plain jOOQ application code: nothing in it knows which tenant, engine or server it runs on.
 */
final class NoteRepository {

	static final Table<Record> NOTES = table(name(JooqTopology.TABLE));

	static final Field<String> ID = field(name("id"), String.class);

	static final Field<String> TENANT = field(name("tenant"), String.class);

	static final Field<String> BODY = field(name("body"), String.class);

	private final TenantDatabase db;

	NoteRepository(TenantDatabase db) {
		this.db = db;
	}

	Mono<Integer> add(String id, String tenant, String body) {
		return this.db.execute(dsl -> dsl.insertInto(NOTES, ID, TENANT, BODY).values(id, tenant, body));
	}

	Mono<String> body(String id) {
		return this.db.query(dsl -> dsl.select(BODY).from(NOTES).where(ID.eq(id))).next().map(r -> r.get(BODY));
	}

	Flux<String> tenantsOf(String prefix) {
		return this.db.query(dsl -> dsl.select(TENANT).from(NOTES).where(ID.startsWith(prefix))).map(r -> r.get(TENANT));
	}

	Mono<Integer> rename(String id, String body) {
		return this.db.execute(dsl -> dsl.update(NOTES).set(BODY, body).where(ID.eq(id)));
	}

	Mono<Integer> remove(String id) {
		return this.db.execute(dsl -> dsl.deleteFrom(NOTES).where(ID.eq(id)));
	}
}
