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

	@Test
	void anInvalidTenantIdIsAnErrorSignalAtSubscriptionNotAThrowAtAssembly() {
		Mono<RoutingContext> pipeline = RoutingContext.current().contextWrite(RoutingContext.forTenant("no such/tenant"));

		StepVerifier.create(pipeline)
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class, e -> {
					assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID);
					assertThat(e.getMessage()).contains("'no such/tenant'");
				}))
				.verify();
	}

	@Test
	void everySubscriptionOfAnInvalidIdGetsItsOwnError() {
		Mono<RoutingContext> pipeline = RoutingContext.current().contextWrite(RoutingContext.forTenant(""));
		Throwable first = pipeline.onErrorResume(e -> Mono.error(new WrappedForTest(e))).materialize().block().getThrowable();
		Throwable second = pipeline.onErrorResume(e -> Mono.error(new WrappedForTest(e))).materialize().block().getThrowable();

		assertThat(first.getCause()).isInstanceOf(DataError.class).isNotSameAs(second.getCause());
	}

	@Test
	void theRouterSeesAnInvalidContextWithoutATenantAndItsError() {
		RoutingContext found = Mono.deferContextual(context -> Mono.justOrEmpty(RoutingContext.find(context)))
				.contextWrite(RoutingContext.forTenant("-starts-with-a-dash")).block();

		assertThat(found).isNotNull();
		assertThat(found.tenant()).isNull();
		assertThat(RoutingContext.noTenantError(found).kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID);
		assertThat(RoutingContext.noTenantError(null).kind()).isEqualTo(DataError.Kind.MISSING_CONTEXT);
	}

	@Test
	void tenantIdOfStaysStrict() {
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> TenantId.of("no such/tenant"))
				.isInstanceOfSatisfying(DataError.class, e -> assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID));
	}

	static final class WrappedForTest extends RuntimeException {

		private static final long serialVersionUID = 1L;

		WrappedForTest(Throwable cause) {
			super(cause);
		}
	}
}
