/**
 * JMH benchmarks of Switchboard: the cost of one routing decision against Spring's
 * {@code AbstractRoutingConnectionFactory}, and jOOQ statements end to end against PostgreSQL.
 * Run them with {@code scripts/bench.sh}; {@code docs/BENCHMARKS.md} explains the numbers.
 *
 * <p>Every type and parameter in this package is non-null unless annotated {@code @Nullable}.
 */
@NullMarked
package dev.switchboard.benchmarks;

import org.jspecify.annotations.NullMarked;
