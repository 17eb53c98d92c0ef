package dev.switchboard.sample;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.security.config.Customizer;
import org.springframework.security.config.annotation.web.reactive.EnableWebFluxSecurity;
import org.springframework.security.config.web.server.ServerHttpSecurity;
import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;
import org.springframework.security.web.server.SecurityWebFilterChain;
import org.springframework.web.reactive.function.server.RouterFunction;
import org.springframework.web.reactive.function.server.ServerResponse;

import static org.springframework.web.reactive.function.server.RouterFunctions.route;

/**
 * The sample is a JWT resource server, as a real service would be: every notes request needs a
 * bearer token, and Switchboard takes the tenant from its {@code tenant} claim
 * ({@code switchboard.web.tenant-from: jwt-claim}). The tokens are signed by an RSA key made at
 * start, in memory, so that the sample needs no network and no identity provider.
 *
 * <p>Stand-in for that identity provider, {@code POST /dev/tokens?tenant=acme} mints a token for any
 * tenant, when {@code sample.dev-tokens=true} (the sample's {@code application.yml} sets it). It
 * exists only in this sample; a real service gets its tokens from its identity provider and has no
 * such endpoint.
 */
@Configuration(proxyBeanMethods = false)
@EnableWebFluxSecurity
class SampleSecurity {

	private final KeyPair keys = generate();

	@Bean
	SecurityWebFilterChain security(ServerHttpSecurity http) {
		// /dev/tokens and /sample/** (the embedded servers' admin API) exist only in the sample.
		return http.authorizeExchange(exchanges -> exchanges.pathMatchers("/actuator/**", "/dev/tokens", "/sample/**").permitAll()
						.anyExchange().authenticated())
				.oauth2ResourceServer(server -> server.jwt(Customizer.withDefaults()))
				.csrf(ServerHttpSecurity.CsrfSpec::disable)
				.build();
	}

	@Bean
	ReactiveJwtDecoder jwtDecoder() {
		return NimbusReactiveJwtDecoder.withPublicKey((RSAPublicKey) this.keys.getPublic()).build();
	}

	@Bean
	@ConditionalOnProperty(name = "sample.dev-tokens", havingValue = "true")
	RouterFunction<ServerResponse> devTokens() {
		JwtEncoder encoder = NimbusJwtEncoder
				.withKeyPair((RSAPublicKey) this.keys.getPublic(), (RSAPrivateKey) this.keys.getPrivate()).build();
		return route().POST("/dev/tokens", request -> {
			String tenant = request.queryParam("tenant").orElse(null);
			if (tenant == null) {
				return ServerResponse.badRequest().bodyValue("name the tenant: POST /dev/tokens?tenant=acme\n");
			}
			Instant now = Instant.now();
			JwtClaimsSet claims = JwtClaimsSet.builder().subject("sample-user").issuedAt(now)
					.expiresAt(now.plus(Duration.ofHours(1))).claim("tenant", tenant).build();
			String token = encoder.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).build(), claims))
					.getTokenValue();
			return ServerResponse.ok().bodyValue(token);
		}).build();
	}

	private static KeyPair generate() {
		try {
			KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
			generator.initialize(2048);
			return generator.generateKeyPair();
		}
		catch (NoSuchAlgorithmException ex) {
			throw new IllegalStateException(ex);
		}
	}
}
