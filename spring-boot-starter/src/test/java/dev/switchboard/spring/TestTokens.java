package dev.switchboard.spring;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Instant;
import java.util.Map;

import org.springframework.security.oauth2.jose.jws.SignatureAlgorithm;
import org.springframework.security.oauth2.jwt.JwsHeader;
import org.springframework.security.oauth2.jwt.JwtClaimsSet;
import org.springframework.security.oauth2.jwt.JwtEncoder;
import org.springframework.security.oauth2.jwt.JwtEncoderParameters;
import org.springframework.security.oauth2.jwt.NimbusJwtEncoder;
import org.springframework.security.oauth2.jwt.NimbusReactiveJwtDecoder;
import org.springframework.security.oauth2.jwt.ReactiveJwtDecoder;

/**
 * Real JWTs for the tests: signed with an RSA key made for this test run, and decoded by Spring
 * Security's resource server through {@link #decoder()}, so that the tests go through the same
 * signature check and claim parsing as production.
 */
final class TestTokens {

	private static final KeyPair KEYS = generate();

	private static final JwtEncoder ENCODER = NimbusJwtEncoder
			.withKeyPair((RSAPublicKey) KEYS.getPublic(), (RSAPrivateKey) KEYS.getPrivate()).build();

	private TestTokens() {
	}

	/** The decoder of the test applications: it accepts only tokens signed by {@link #mint}. */
	static ReactiveJwtDecoder decoder() {
		return NimbusReactiveJwtDecoder.withPublicKey((RSAPublicKey) KEYS.getPublic()).build();
	}

	/**
	 * A signed token for subject {@code user}, valid for five minutes.
	 * @param claims its claims besides the subject and times
	 */
	static String mint(Map<String, Object> claims) {
		Instant now = Instant.now();
		JwtClaimsSet.Builder set = JwtClaimsSet.builder().subject("user").issuedAt(now).expiresAt(now.plusSeconds(300));
		claims.forEach(set::claim);
		return ENCODER.encode(JwtEncoderParameters.from(JwsHeader.with(SignatureAlgorithm.RS256).build(), set.build()))
				.getTokenValue();
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
