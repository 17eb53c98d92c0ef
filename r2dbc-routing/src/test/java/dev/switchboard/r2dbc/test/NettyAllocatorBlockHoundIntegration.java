package dev.switchboard.r2dbc.test;

import reactor.blockhound.BlockHound;
import reactor.blockhound.integration.BlockHoundIntegration;

/**
 * Allows the one blocking call BlockHound finds that is neither ours nor avoidable: Netty 4.2's
 * adaptive buffer allocator briefly parks on a lock when it grows its magazines under
 * contention. Netty's own BlockHound integration does not list it yet. Everything else stays
 * forbidden on Reactor threads.
 */
public final class NettyAllocatorBlockHoundIntegration implements BlockHoundIntegration {

	@Override
	public void applyTo(BlockHound.Builder builder) {
		builder.allowBlockingCallsInside("io.netty.buffer.AdaptivePoolingAllocator$MagazineGroup", "tryExpandMagazines");
	}
}
