/**
 * Routing for R2DBC: {@link dev.switchboard.r2dbc.RoutingConnectionFactory} picks, for each
 * subscription, the pool of the tenant's primary or of one of its replicas, from the
 * {@link dev.switchboard.api.RoutingContext} in the Reactor Context.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.r2dbc;

import org.jspecify.annotations.NullMarked;
