/**
 * Spring Boot integration: auto-configuration from {@code switchboard.*} properties, the WebFlux
 * tenant filter, Spring transactions over the routed factory, Micrometer metrics and health.
 *
 * <p>{@code @Transactional} works with this starter alone (it brings Boot's
 * {@code spring-boot-transaction}). The {@code DatabaseClient} bean is a
 * {@link dev.switchboard.spring.SwitchboardDatabaseClient}, which binds each tenant's statements with
 * its engine's markers.
 *
 * <p>Outside a web request, where no {@link dev.switchboard.spring.TenantWebFilter} writes the
 * tenant, the caller writes it downstream of every {@code @Transactional} call, because the
 * transaction takes its connection when the returned publisher is subscribed and the Reactor Context
 * flows from the subscriber up; a {@code contextWrite} inside the method comes too late:
 *
 * <pre class="code">
 * ledger.record(entry)                                        // {@literal @}Transactional
 *     .contextWrite(RoutingContext.forTenant(entry.tenant()))
 *     .subscribe();
 * </pre>
 *
 * <p>Spring wraps a {@code DataError} in its own exceptions; find it with
 * {@link dev.switchboard.api.DataError#find(Throwable)}.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.spring;

import org.jspecify.annotations.NullMarked;
