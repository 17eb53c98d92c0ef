/**
 * The contract of Switchboard: who the request is for ({@link dev.switchboard.api.RoutingContext},
 * {@link dev.switchboard.api.TenantId}), what it wants to do ({@link dev.switchboard.api.AccessIntent},
 * {@link dev.switchboard.api.ReadAfterWritePin}), where it may go ({@link dev.switchboard.api.DataSource},
 * {@link dev.switchboard.api.DataSourceRegistry}) and how failures are reported
 * ({@link dev.switchboard.api.DataError}).
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.api;

import org.jspecify.annotations.NullMarked;
