package dev.switchboard.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatExceptionOfType;

class CausalTokenTest {

	@Test
	void roundTripsThroughItsStringForm() {
		CausalToken token = CausalToken.of("orders-pg", ReplicationPosition.parse("0/3000148"));

		assertThat(token).hasToString("orders-pg@0/3000148");
		assertThat(CausalToken.parse(token.toString())).isEqualTo(token);
		assertThat(CausalToken.parse("orders.maria_1@0-1-42").position()).isEqualTo(ReplicationPosition.parse("0-1-42"));
	}

	@ParameterizedTest
	@ValueSource(strings = { "", "@0/1", "orders@", "orders", "ord ers@0/1", "orders@0/zz", "orders@0-1",
			"orders@0-1-2\r\nX-Injected: 1" })
	void rejectsMalformedTokensWithAClassifiedError(String value) {
		assertThatExceptionOfType(DataError.class).isThrownBy(() -> CausalToken.parse(value))
				.satisfies(error -> {
					assertThat(error.kind()).isEqualTo(DataError.Kind.INVALID_CAUSAL_TOKEN);
					assertThat(error.getMessage()).doesNotContain("\r", "\n");
				});
	}

	@Test
	void aMissingTokenIsClassifiedToo() {
		assertThatExceptionOfType(DataError.class).isThrownBy(() -> CausalToken.parse(null))
				.extracting(DataError::kind).isEqualTo(DataError.Kind.INVALID_CAUSAL_TOKEN);
	}

	@Test
	void thePinKeepsTheLatestPositionOfTheRequest() {
		ReadAfterWritePin pin = new ReadAfterWritePin();
		pin.observe(CausalToken.parse("orders@0-1-5"));
		pin.observe(CausalToken.parse("orders@0-1-3"));
		pin.observe(CausalToken.parse("orders@1-1-1"));

		assertThat(pin.token()).hasToString("orders@0-1-5,1-1-1");
		assertThat(pin.isTripped()).as("a token alone does not pin reads").isFalse();

		pin.observe(CausalToken.parse("billing@0/10"));
		assertThat(pin.token()).as("another datasource: the later token wins").hasToString("billing@0/10");
		assertThat(RoutingContext.of(TenantId.of("acme"), pin).causalToken()).isSameAs(pin.token());
	}
}
