/**
 * Replicated PostgreSQL and MariaDB servers run from binaries that come from Maven Central, for the
 * sample's zero-setup default and as the integration tests' last resort: {@link
 * dev.switchboard.embedded.EmbeddedTopology}.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.embedded;

import org.jspecify.annotations.NullMarked;
