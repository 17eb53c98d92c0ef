package dev.switchboard.r2dbc;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The publishers of {@link RoutingConnectionFactory}: each subscription is routed with a context,
 * its subscriber's or the one an adapter passed ({@link RouteMono}), routed for a transaction
 * ({@link ForTransaction}), or connected to one target on purpose ({@link ToTarget}). One small
 * class each, holding only what its mode needs: adapters build one per statement. Handed out
 * through {@link #assemble}, so that {@code Hooks.onOperatorDebug()} and {@code checkpoint()} see
 * routing like any operator; without hooks that costs no allocation.
 */
final class RouteMono extends Mono<Connection> {

	private final RoutingConnectionFactory routing;

	/** The context to route with, or {@code null} for the subscriber's. */
	private final @Nullable ContextView context;

	/** The intent assumed when the context declares none, or {@code null} for unknown (the primary). */
	private final @Nullable AccessIntent intent;

	RouteMono(RoutingConnectionFactory routing, @Nullable ContextView context, @Nullable AccessIntent intent) {
		this.routing = routing;
		this.context = context;
		this.intent = intent;
	}

	/** Pass one of these publishers through Reactor's assembly hooks. */
	static Mono<Connection> assemble(Mono<Connection> mono) {
		return onAssembly(mono);
	}

	@Override
	public void subscribe(CoreSubscriber<? super Connection> actual) {
		this.routing.route(actual, this.context != null ? this.context : actual.currentContext(), this.intent, false);
	}

	/** A connection to the primary for a transaction about to begin, routed with a given context. */
	static final class ForTransaction extends Mono<Connection> {

		private final RoutingConnectionFactory routing;

		private final ContextView context;

		ForTransaction(RoutingConnectionFactory routing, ContextView context) {
			this.routing = routing;
			this.context = context;
		}

		@Override
		public void subscribe(CoreSubscriber<? super Connection> actual) {
			this.routing.route(actual, this.context, AccessIntent.WRITE, true);
		}
	}

	/** A connection to one target, bypassing the decision. */
	static final class ToTarget extends Mono<Connection> {

		private final RoutingConnectionFactory routing;

		private final ContextView context;

		private final DataSource.Target target;

		private final Tenancy tenancy;

		ToTarget(RoutingConnectionFactory routing, ContextView context, DataSource.Target target, Tenancy tenancy) {
			this.routing = routing;
			this.context = context;
			this.target = target;
			this.tenancy = tenancy;
		}

		@Override
		public void subscribe(CoreSubscriber<? super Connection> actual) {
			this.routing.connect(actual, this.context, this.target, this.tenancy);
		}
	}
}
