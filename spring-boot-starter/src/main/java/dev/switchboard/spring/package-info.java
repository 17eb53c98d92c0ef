/**
 * Spring Boot integration: auto-configuration from {@code switchboard.*} properties, the WebFlux
 * tenant filter, Spring transactions over the routed factory, Micrometer metrics and health.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.spring;

import org.jspecify.annotations.NullMarked;
