package dev.switchboard.r2dbc.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows r2dbc-postgresql's SCRAM-SHA-256 login to draw its client nonce: the SCRAM library asks
 * {@code SecureRandom}, whose {@code NativePRNG} reads {@code /dev/urandom} through a
 * {@code FileInputStream}, on the Netty event loop that runs the login. BlockHound flags that read
 * (found by PasswordRotationIT, the first test to log in with a password rather than on trust);
 * {@code /dev/urandom} never waits for entropy, and the call is the driver's, not ours.
 */
public final class ScramNonceBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("com.ongres.scram.common.ScramFunctions", "nonce");
	}
}
