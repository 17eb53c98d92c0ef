package dev.switchboard.spring;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows Netty's DNS resolver, which the drivers use for a host name, to draw the ids of its
 * queries: {@code DnsQueryIdSpace} asks {@code SecureRandom}, whose {@code NativePRNG} reads
 * {@code /dev/urandom} through a {@code FileInputStream}, on the event loop. BlockHound flagged that
 * read, the query was never sent, and every host name the driver had to resolve timed out in the
 * starter's tests ({@code startup.verify} reported "no connection within 30s" for a host that does
 * not exist, where the application itself reports "unknown host" within a second). The call is
 * Netty's, and {@code /dev/urandom} never waits for entropy.
 */
public final class NettyDnsBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.netty.resolver.dns.DnsQueryIdSpace$DnsQueryIdRange", "pushId");
	}
}
