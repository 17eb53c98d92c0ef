package dev.switchboard.r2dbc;

import dev.switchboard.api.AccessIntent;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import reactor.core.publisher.Mono;

/**
 * The view of a {@link RoutingConnectionFactory} returned by
 * {@link RoutingConnectionFactory#forIntent(AccessIntent)}: it routes as if every pipeline had
 * declared one intent, unless it declares another. Its publisher is built once; closing it does
 * nothing.
 */
final class IntentView implements ConnectionFactory {

	private final RoutingConnectionFactory routing;

	private final AccessIntent intent;

	private final RouteMono create;

	IntentView(RoutingConnectionFactory routing, AccessIntent intent) {
		this.routing = routing;
		this.intent = intent;
		this.create = new RouteMono(routing, null, intent);
	}

	@Override
	public Mono<Connection> create() {
		return RouteMono.assemble(this.create);
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.routing.getMetadata();
	}

	@Override
	public String toString() {
		return this.routing + "[default intent " + this.intent + "]";
	}
}
