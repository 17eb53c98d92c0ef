/**
 * jOOQ on Switchboard: {@link org.jooq.DSLContext}s bound to the
 * {@link dev.switchboard.r2dbc.RoutingConnectionFactory}, each with its datasource's dialect,
 * the Reactor Context handed to the routing through jOOQ's {@link org.jooq.SubscriberProvider},
 * and routed transactions.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.jooq;

import org.jspecify.annotations.NullMarked;
