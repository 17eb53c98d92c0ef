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

	@Test
	void aCausalTokenBroughtAsAStringIsImportedIntoEverySubscriptionsFreshPin() {
		Mono<RoutingContext> pipeline = RoutingContext.current()
				.contextWrite(RoutingContext.forTenant("acme", "orders-pg@0/3000148"));

		RoutingContext first = pipeline.block();
		RoutingContext second = pipeline.block();
		assertThat(first.tenant()).isEqualTo(TenantId.of("acme"));
		assertThat(first.causalToken()).isEqualTo(CausalToken.parse("orders-pg@0/3000148"));
		assertThat(second.pin()).isNotSameAs(first.pin());
		assertThat(second.causalToken()).isEqualTo(first.causalToken());
	}

	@Test
	void withoutATokenTheContextHasNone() {
		RoutingContext routing = RoutingContext.current().contextWrite(RoutingContext.forTenant("acme", null)).block();

		assertThat(routing.tenant()).isEqualTo(TenantId.of("acme"));
		assertThat(routing.causalToken()).isNull();
	}

	@Test
	void aMalformedTokenIsAnErrorSignalAtSubscriptionNotAThrowAtAssembly() {
		Mono<RoutingContext> pipeline = RoutingContext.current().contextWrite(RoutingContext.forTenant("acme", "not a token"));

		StepVerifier.create(pipeline)
				.expectErrorSatisfies(error -> assertThat(error).isInstanceOfSatisfying(DataError.class,
						e -> assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_CAUSAL_TOKEN)))
				.verify();
	}

	@Test
	void aBadTenantIdIsReportedBeforeABadToken() {
		StepVerifier.create(RoutingContext.current().contextWrite(RoutingContext.forTenant("", "not a token")))
				.expectErrorSatisfies(error -> assertThat(((DataError) error).kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID))
				.verify();
	}

	@Test
	void aFilterThatBuildsTheContextImportsTheTokenFluently() {
		RoutingContext routing = RoutingContext.of(TenantId.of("acme")).observeCausalToken("orders-maria@0-1-42");

		assertThat(routing.causalToken()).isEqualTo(CausalToken.parse("orders-maria@0-1-42"));
		org.assertj.core.api.Assertions.assertThatThrownBy(() -> routing.observeCausalToken("orders-maria@"))
				.isInstanceOfSatisfying(DataError.class, e -> assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_CAUSAL_TOKEN));
		assertThat(routing.causalToken()).isEqualTo(CausalToken.parse("orders-maria@0-1-42"));
	}

	static final class WrappedForTest extends RuntimeException {

		private static final long serialVersionUID = 1L;

		WrappedForTest(Throwable cause) {
			super(cause);
		}
	}
}
