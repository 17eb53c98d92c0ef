package dev.switchboard.spring;

import dev.switchboard.jooq.TenantDatabase;
import org.jooq.Record1;
import org.jooq.impl.DSL;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerRequest;
import org.springframework.web.reactive.function.server.ServerResponse;
import reactor.core.publisher.Mono;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

/**
 * A WebFlux application behind Spring Security's JWT resource server, as a user writes it, for the
 * tests of tenants taken from the caller. Deliberately not a {@code @Configuration}, so that
 * {@link TestApplication}'s component scan does not pick it up.
 */
@EnableAutoConfiguration
@EnableWebFluxSecurity
class SecuredApplication {

	/** The table the write handlers insert into, on every tenant's primary. */
	static final String TABLE = "sb_tenant_access";

	@Bean
	SecurityWebFilterChain security(ServerHttpSecurity http) {
		return http.authorizeExchange(exchanges -> exchanges.pathMatchers("/actuator/**").permitAll()
						.anyExchange().authenticated())
				.oauth2ResourceServer(server -> server.jwt(Customizer.withDefaults()))
				.csrf(ServerHttpSecurity.CsrfSpec::disable)
				.build();
	}

	@Bean
	ReactiveJwtDecoder jwtDecoder() {
		return TestTokens.decoder();
	}

	@Bean
	RouterFunction<ServerResponse> securedRoutes(TenantDatabase db) {
		return route()
				.GET("/server", request -> port(db))
				.GET("/tenants/{tenant}/server", request -> port(db))
				.POST("/notes/{id}", request -> insert(db, request))
				.POST("/tenants/{tenant}/notes/{id}", request -> insert(db, request))
				.build();
	}

	private static Mono<ServerResponse> port(TenantDatabase db) {
		return db.query(dsl -> dsl.select(DSL.field(TestApplication.whoAmI(dsl), Integer.class)))
				.next().map(Record1::value1)
				.flatMap(port -> ServerResponse.ok().bodyValue(String.valueOf(port)));
	}

	private static Mono<ServerResponse> insert(TenantDatabase db, ServerRequest request) {
		return db.execute(dsl -> dsl.insertInto(DSL.table(TABLE), DSL.field("id"), DSL.field("tenant"))
						.values(request.pathVariable("id"), "web"))
				.flatMap(n -> ServerResponse.ok().bodyValue("written"));
	}
}
