package dev.switchboard.spring;

import dev.switchboard.jooq.TenantDatabase;
import org.jooq.DSLContext;
import org.jooq.Record1;
import org.jooq.SQLDialect;
import org.jooq.impl.DSL;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

/**
 * A WebFlux application as a user would write it, for the end-to-end tests. Spring Security is on
 * the test classpath for {@link SecuredApplication}; this application runs without it, as one
 * that does not use it.
 */
@SpringBootApplication(excludeName = { "org.springframework.boot.security.autoconfigure.SecurityAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.ReactiveUserDetailsServiceAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.web.reactive.ReactiveWebSecurityAutoConfiguration",
		"org.springframework.boot.security.autoconfigure.actuate.web.reactive.ReactiveManagementWebSecurityAutoConfiguration",
		"org.springframework.boot.security.oauth2.server.resource.autoconfigure.reactive.ReactiveOAuth2ResourceServerAutoConfiguration" })
@EnableTransactionManagement
class TestApplication {

	/** A service as users write them: {@code @Transactional} on a reactive method. */
	@Service
	static class PortService {

		private final TenantDatabase db;

		PortService(TenantDatabase db) {
			this.db = db;
		}

		@Transactional
		public Mono<Integer> portInTransaction() {
			return this.db.read(dsl -> dsl.select(DSL.field(whoAmI(dsl), Integer.class))).next().map(Record1::value1);
		}
	}

	static String whoAmI(DSLContext dsl) {
		return dsl.dialect() == SQLDialect.POSTGRES ? "inet_server_port()" : "@@port";
	}

	@Bean
	RouterFunction<ServerResponse> routes(TenantDatabase db, TransactionalOperator transactions, PortService ports) {
		return route()
				// Failures left to the framework, for ProblemDetailsIT: no onErrorResume.
				.GET("/raw/bad-sql", request -> db.query(dsl -> dsl.resultQuery("SELEC 1")).then(ServerResponse.ok().build()))
				.POST("/raw/conflict/{id}", request -> transactions.transactional(
								db.write(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
										.values(request.pathVariable("id"), "web", "mine"))
								.then(db.write(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
										.values(request.pathVariable("id") + "-x", "web", "theirs")).next()
										.contextWrite(dev.switchboard.api.RoutingContext.forTenant("globex"))))
						.flatMap(n -> ServerResponse.ok().bodyValue("committed")))
				.GET("/raw/outcome-unknown", request -> Mono.error(dev.switchboard.api.DataError.outcomeUnknown("the commit",
						dev.switchboard.api.TenantId.of("acme"), "pg-main", dev.switchboard.api.Role.PRIMARY, "08006",
						new java.io.IOException("connection reset by peer"))))
				// A write declared a read: a replica takes it, and refuses it (read-only, SQLSTATE 25006).
				.POST("/raw/write-as-read/{id}", request -> db.read(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"),
								DSL.field("tenant"), DSL.field("body")).values(request.pathVariable("id"), "web", "misrouted"))
						.then(ServerResponse.ok().build()))
				.POST("/echo", request -> request.bodyToMono(String.class)
						.flatMap(body -> ServerResponse.ok().bodyValue(String.valueOf(body.length()))))
				.GET("/no-tenant/server", request -> db.query(dsl -> dsl.selectOne()).then(ServerResponse.ok().build()))
				.GET("/bad-sql", request -> db.query(dsl -> dsl.resultQuery("SELEC 1")).then(ServerResponse.ok().build())
						.onErrorResume(dev.switchboard.api.DataError.class,
								ex -> ServerResponse.unprocessableContent().bodyValue(ex.kind().name())))
				.GET("/transactional-server", request -> ports.portInTransaction()
						.flatMap(port -> ServerResponse.ok().bodyValue(String.valueOf(port))))
				.POST("/spring-tx-conflict/{id}", request -> {
					String id = request.pathVariable("id");
					Mono<Integer> work = db.write(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
									.values(id, "web", "mine"))
							.then(db.write(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
									.values(id + "-x", "web", "theirs")).next()
									.contextWrite(dev.switchboard.api.RoutingContext.forTenant("globex")));
					return transactions.transactional(work)
							.flatMap(n -> ServerResponse.ok().bodyValue("committed"))
							.onErrorResume(dev.switchboard.api.DataError.class,
									ex -> ServerResponse.status(409).bodyValue(ex.kind().name()));
				})
				.GET("/server", request -> db.query(dsl -> dsl.select(DSL.field(whoAmI(dsl), Integer.class)))
						.next().map(Record1::value1)
						.flatMap(port -> ServerResponse.ok().bodyValue(String.valueOf(port))))
				.POST("/notes/{id}", request -> {
					String id = request.pathVariable("id");
					Mono<String> written = db.execute(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
									.values(id, "web", "written"))
							.then(db.query(dsl -> dsl.select(DSL.field("body", String.class)).from("notes").where(DSL.field("id").eq(id)))
									.next().map(Record1::value1))
							.defaultIfEmpty("not found");
					return written.flatMap(body -> ServerResponse.ok().bodyValue(body));
				})
				.PUT("/notes/{id}", request -> db.execute(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"),
								DSL.field("tenant"), DSL.field("body")).values(request.pathVariable("id"), "web", "written"))
						.flatMap(n -> ServerResponse.noContent().build()))
				.GET("/notes/{id}", request -> db.query(dsl -> dsl.select(DSL.field("body", String.class)).from("notes")
								.where(DSL.field("id").eq(request.pathVariable("id"))))
						.next().map(Record1::value1)
						.flatMap(body -> ServerResponse.ok().bodyValue(body))
						.switchIfEmpty(ServerResponse.notFound().build()))
				.POST("/spring-tx/{id}", request -> {
					String id = request.pathVariable("id");
					boolean fail = request.queryParam("fail").isPresent();
					Mono<Integer> work = db.write(dsl -> dsl.insertInto(DSL.table("notes"), DSL.field("id"), DSL.field("tenant"), DSL.field("body"))
									.values(id, "web", "spring"))
							.next()
							.flatMap(n -> fail ? Mono.error(new IllegalStateException("rolled back")) : Mono.just(n));
					return transactions.transactional(work)
							.flatMap(n -> ServerResponse.ok().bodyValue("committed"))
							.onErrorResume(IllegalStateException.class, ex -> ServerResponse.status(409).bodyValue("rolled back"));
				})
				.build();
	}
}
