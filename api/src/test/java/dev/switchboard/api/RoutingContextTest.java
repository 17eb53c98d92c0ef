package dev.switchboard.api;

import org.junit.jupiter.api.Test;
import reactor.core.publisher.Mono;
import reactor.test.StepVerifier;

import static org.assertj.core.api.Assertions.assertThat;

class RoutingContextTest {

	@Test
	void contextWriteMakesTheTenantAvailableUpstream() {
		StepVerifier.create(RoutingContext.current().map(context -> context.tenant().value())
						.contextWrite(RoutingContext.forTenant("acme")))
				.expectNext("acme")
				.verifyComplete();
	}

	@Test
	void everySubscriptionGetsAFreshPin() {
		Mono<ReadAfterWritePin> pin = RoutingContext.current().map(RoutingContext::pin)
				.contextWrite(RoutingContext.forTenant("acme"));

		assertThat(pin.block()).isNotSameAs(pin.block());
	}

	@Test
	void innerContextWriteWins() {
		StepVerifier.create(RoutingContext.current().map(context -> context.tenant().value())
						.contextWrite(RoutingContext.forTenant("inner"))
						.contextWrite(RoutingContext.forTenant("outer")))
				.expectNext("inner")
				.verifyComplete();
	}

	@Test
	void missingContextIsAClassifiedError() {
		StepVerifier.create(RoutingContext.current())
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class,
						e -> assertThat(e.kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT)))
				.verify();
	}

	@Test
	void declaredIntentIsReadBack() {
		StepVerifier.create(Mono.deferContextual(context -> Mono.justOrEmpty(RoutingContext.findDeclaredIntent(context)))
						.contextWrite(RoutingContext.intent(AccessIntent.READ)))
				.expectNext(AccessIntent.READ)
				.verifyComplete();
	}
}
