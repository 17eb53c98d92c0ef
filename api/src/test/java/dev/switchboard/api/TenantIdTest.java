package dev.switchboard.api;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantIdTest {

	@ParameterizedTest
	@ValueSource(strings = { "acme", "a", "Tenant_01", "eu-west.acme", "9lives" })
	void acceptsSafeIds(String value) {
		assertThat(TenantId.of(value).value()).isEqualTo(value);
		assertThat(TenantId.isValid(value)).isTrue();
	}

	@ParameterizedTest
	@NullSource
	@ValueSource(strings = { "", " ", "-acme", ".acme", "acme corp", "acme;drop", "acme/1", "ac\u0000me", "ünicode" })
	void rejectsUnsafeIdsWithAClassifiedErrorNamingTheValue(String value) {
		assertThat(TenantId.isValid(value)).isFalse();
		assertThatThrownBy(() -> TenantId.of(value)).isInstanceOfSatisfying(DataError.class, error -> {
			assertThat(error.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID);
			assertThat(error.kind().isRouting()).isTrue();
			assertThat(error.getMessage()).contains("invalid tenant id");
		});
	}

	@Test
	void rejectsIdsLongerThanTheLimit() {
		String longest = "a".repeat(TenantId.MAX_LENGTH);
		assertThat(TenantId.of(longest).value()).hasSize(TenantId.MAX_LENGTH);
		assertThatThrownBy(() -> TenantId.of(longest + "a"))
				.hasMessageContaining("at most 64 characters, was 65");
	}

	@Test
	void messageShowsTheBadValueAndWhereItIsWrong() {
		assertThatThrownBy(() -> TenantId.of("acme;drop"))
				.hasMessageContaining("'acme;drop'")
				.hasMessageContaining("found ';' at index 4");
	}

	@Test
	void comparesByValue() {
		assertThat(TenantId.of("acme")).isEqualTo(TenantId.of("acme")).hasSameHashCodeAs(TenantId.of("acme"));
		assertThat(TenantId.of("acme")).isNotEqualTo(TenantId.of("Acme"));
	}
}
