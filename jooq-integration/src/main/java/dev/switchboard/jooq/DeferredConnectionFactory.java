package dev.switchboard.jooq;

import dev.switchboard.r2dbc.RoutingConnectionFactory;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactory;
import io.r2dbc.spi.ConnectionFactoryMetadata;
import io.r2dbc.spi.ConnectionMetadata;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;

/**
 * The connection factory of the routed {@code DSLContext}s: it hands out
 * {@link DeferredConnection}s, which route when jOOQ creates the statement and its intent is known.
 */
final class DeferredConnectionFactory implements ConnectionFactory {

	private final RoutingConnectionFactory routing;

	private final Mono<Connection> create;

	/**
	 * @param routing the routing factory
	 * @param intent where the intent of each statement comes from
	 */
	DeferredConnectionFactory(RoutingConnectionFactory routing, DeferredConnection.IntentSource intent) {
		this.routing = routing;
		ConnectionFactoryMetadata factoryMetadata = routing.getMetadata();
		ConnectionMetadata metadata = new ConnectionMetadata() {
			@Override
			public String getDatabaseProductName() {
				return factoryMetadata.getName();
			}

			@Override
			public String getDatabaseVersion() {
				return "unknown until routed";
			}
		};
		this.create = new Create(routing, metadata, intent);
	}

	/**
	 * {@inheritDoc} One publisher, built in the constructor, passed through Reactor's assembly hooks
	 * on each call, so that {@code Hooks.onOperatorDebug()} and {@code checkpoint()} see it; without
	 * hooks that returns it as it is, allocating nothing.
	 */
	@Override
	public Mono<Connection> create() {
		return Create.assemble(this.create);
	}

	@Override
	public ConnectionFactoryMetadata getMetadata() {
		return this.routing.getMetadata();
	}

	/** The publisher of {@link #create()}: a new {@link DeferredConnection} for each subscriber. */
	private static final class Create extends Mono<Connection> {

		private final RoutingConnectionFactory routing;

		private final ConnectionMetadata metadata;

		private final DeferredConnection.IntentSource intent;

		Create(RoutingConnectionFactory routing, ConnectionMetadata metadata, DeferredConnection.IntentSource intent) {
			this.routing = routing;
			this.metadata = metadata;
			this.intent = intent;
		}

		/** Pass this publisher through Reactor's assembly hooks ({@code Mono.onAssembly} is protected). */
		static Mono<Connection> assemble(Mono<Connection> create) {
			return onAssembly(create);
		}

		@Override
		public void subscribe(CoreSubscriber<? super Connection> actual) {
			DeferredConnection connection = new DeferredConnection(this.routing, actual.currentContext(), this.metadata,
					this.intent);
			Offer offer = new Offer(actual, connection);
			actual.onSubscribe(offer);
			offer.complete(connection);
		}
	}

	/**
	 * Hands one deferred connection to jOOQ. jOOQ cancels this subscription when its query is
	 * cancelled before it took the connection; it may still run the query on it, and would then
	 * never close it: a cancel refuses it instead. One object per statement where
	 * {@code Mono.just(connection).doOnCancel(...)} inside a {@code Mono.deferContextual} took five
	 * (issue 20).
	 */
	private static final class Offer extends Operators.MonoSubscriber<Connection, Connection> {

		private final DeferredConnection connection;

		Offer(CoreSubscriber<? super Connection> actual, DeferredConnection connection) {
			super(actual);
			this.connection = connection;
		}

		@Override
		public void cancel() {
			super.cancel();
			this.connection.abandon();
		}
	}
}
