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

	@Test
	void idsWithTheSameHashAreStillToldApart() {
		// "Aa" and "BB" have the same String hash, and so the same spread hash: only the characters
		// can tell them apart, in the packed part and beyond it.
		assertThat(TenantId.of("Aa")).hasSameHashCodeAs(TenantId.of("BB")).isNotEqualTo(TenantId.of("BB"));
		String sixteen = "abcdefghijklmnop";
		assertThat(TenantId.of(sixteen + "Aa")).hasSameHashCodeAs(TenantId.of(sixteen + "BB"))
				.isNotEqualTo(TenantId.of(sixteen + "BB"));
		assertThat(TenantId.of(sixteen + "Aa")).isEqualTo(TenantId.of(sixteen + "Aa"));
	}

	@Test
	void equalsAgreesWithTheStringsAtEveryLength() {
		// Prefixes of one id, at every length up to the limit: around the 8 and 16 packed characters,
		// an id and its one-longer prefix must differ, and every id must equal a copy of itself.
		String longest = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-";
		assertThat(longest).hasSize(TenantId.MAX_LENGTH);
		for (int length = 1; length <= TenantId.MAX_LENGTH; length++) {
			String value = longest.substring(0, length);
			TenantId id = TenantId.of(value);
			assertThat(id).as(value).isEqualTo(TenantId.of(new String(value.toCharArray())));
			for (int other = 1; other <= TenantId.MAX_LENGTH; other++) {
				if (other != length) {
					assertThat(id).as(value + " against its length " + other).isNotEqualTo(TenantId.of(longest.substring(0, other)));
				}
			}
			if (length > 1) {
				// The same length, one character changed at the end, and at the start.
				String lastChanged = value.substring(0, length - 1) + (value.charAt(length - 1) == 'x' ? 'y' : 'x');
				assertThat(id).as(lastChanged).isNotEqualTo(TenantId.of(lastChanged));
				assertThat(id).isNotEqualTo(TenantId.of("z" + value.substring(1)));
			}
		}
	}
}
