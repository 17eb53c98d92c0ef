package dev.switchboard.r2dbc;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.DataSource;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import org.jspecify.annotations.Nullable;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Mono;
import reactor.util.context.ContextView;

/**
 * The publishers of {@link RoutingConnectionFactory}: each subscription is routed with a context,
 * its subscriber's or the one an adapter passed, or connected to one target on purpose. Handed out
 * through {@link #assemble}, so that {@code Hooks.onOperatorDebug()} and {@code checkpoint()} see
 * routing like any operator; without hooks that costs no allocation.
 */
final class RouteMono extends Mono<Connection> {

	private final RoutingConnectionFactory routing;

	/** The context to route with, or {@code null} for the subscriber's. */
	private final @Nullable ContextView context;

	private final @Nullable AccessIntent intent;

	private final boolean transaction;

	/** The target to connect to without a decision, or {@code null} to route. */
	private final DataSource.@Nullable Target target;

	private final @Nullable TenantId tenant;

	/** Route each subscription, as if it had declared {@code intent} (or for a transaction). */
	RouteMono(RoutingConnectionFactory routing, @Nullable ContextView context, @Nullable AccessIntent intent,
			boolean transaction) {
		this.routing = routing;
		this.context = context;
		this.intent = intent;
		this.transaction = transaction;
		this.target = null;
		this.tenant = null;
	}

	/** Connect each subscription to {@code target}, naming {@code tenant} in errors. */
	RouteMono(RoutingConnectionFactory routing, ContextView context, DataSource.Target target, TenantId tenant) {
		this.routing = routing;
		this.context = context;
		this.intent = null;
		this.transaction = false;
		this.target = target;
		this.tenant = tenant;
	}

	/** Pass a publisher through Reactor's assembly hooks. */
	static Mono<Connection> assemble(RouteMono mono) {
		return onAssembly(mono);
	}

	@Override
	public void subscribe(CoreSubscriber<? super Connection> actual) {
		ContextView routedWith = this.context != null ? this.context : actual.currentContext();
		if (this.target != null) {
			this.routing.connect(actual, routedWith, this.target, this.tenant);
		}
		else {
			this.routing.route(actual, routedWith, this.intent, this.transaction);
		}
	}
}
