package dev.switchboard.api;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantTableTest {

	@Test
	void anEmptyTableFindsNothing() {
		TenantTable<String> table = TenantTable.copyOf(Map.of());
		assertThat(table.size()).isZero();
		assertThat(table.get(TenantId.of("acme"))).isNull();
	}

	@Test
	void findsWhatAMapFindsAndMissesWhatItMisses() {
		// Random ids of every length, half of them stored: every lookup, with a fresh id as a request
		// parses it, must agree with a HashMap. Enough ids for long probe runs and for runs that wrap
		// around the end of the table.
		SplittableRandom random = new SplittableRandom(7);
		Map<TenantId, Integer> stored = new HashMap<>();
		Map<String, Boolean> asked = new LinkedHashMap<>();
		for (int i = 0; i < 20_000; i++) {
			String id = randomId(random);
			boolean store = random.nextBoolean();
			asked.putIfAbsent(id, store);
			if (asked.get(id)) {
				stored.put(TenantId.of(id), i);
			}
		}
		TenantTable<Integer> table = TenantTable.copyOf(stored);
		assertThat(table.size()).isEqualTo(stored.size());
		asked.forEach((id, present) -> assertThat(table.get(TenantId.of(id))).as(id)
				.isEqualTo(stored.get(TenantId.of(id))));
	}

	@Test
	void idsWithTheSameHashKeepTheirOwnValues() {
		// "Aa" and "BB" share a hash, so they share a home slot: the second is found past the first,
		// and an absent one of the pair is not mistaken for the present one.
		String sixteen = "abcdefghijklmnop";
		TenantTable<String> table = TenantTable.copyOf(Map.of(TenantId.of("Aa"), "first", TenantId.of("BB"), "second",
				TenantId.of(sixteen + "Aa"), "long first"));
		assertThat(table.get(TenantId.of("Aa"))).isEqualTo("first");
		assertThat(table.get(TenantId.of("BB"))).isEqualTo("second");
		assertThat(table.get(TenantId.of(sixteen + "Aa"))).isEqualTo("long first");
		assertThat(table.get(TenantId.of(sixteen + "BB"))).isNull();
	}

	@Test
	void idsThatDifferOnlyAfterTheirSixteenthCharacterAreToldApart() {
		String prefix = "tenant-0123456789";
		Map<TenantId, Integer> stored = new HashMap<>();
		for (int length = 1; length <= TenantId.MAX_LENGTH; length++) {
			stored.put(TenantId.of(prefix.repeat(4).substring(0, length)), length);
		}
		TenantTable<Integer> table = TenantTable.copyOf(stored);
		for (int length = 1; length <= TenantId.MAX_LENGTH; length++) {
			String id = prefix.repeat(4).substring(0, length);
			assertThat(table.get(TenantId.of(id))).as(id).isEqualTo(length);
			String lastChanged = id.substring(0, length - 1) + (id.charAt(length - 1) == 'x' ? 'y' : 'x');
			assertThat(table.get(TenantId.of(lastChanged))).as(lastChanged).isNull();
		}
	}

	@Test
	void refusesANullValueNamingTheTenant() {
		Map<TenantId, String> map = new HashMap<>();
		map.put(TenantId.of("acme"), null);
		assertThatThrownBy(() -> TenantTable.copyOf(map)).isInstanceOf(NullPointerException.class)
				.hasMessageContaining("'acme'");
	}

	private static String randomId(SplittableRandom random) {
		String alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-";
		int length = 1 + random.nextInt(random.nextBoolean() ? 16 : TenantId.MAX_LENGTH);
		StringBuilder id = new StringBuilder(length).append(alphabet.charAt(random.nextInt(62)));
		for (int i = 1; i < length; i++) {
			id.append(alphabet.charAt(random.nextInt(alphabet.length())));
		}
		return id.toString();
	}

	@Test
	void withSetsTheChangesAndLeavesTheOriginalAsItWas() {
		// Random additions and replacements, one or a few at a time, past several doublings of the
		// table: every version agrees with a HashMap of the same history, and the one before it
		// still finds what it found.
		SplittableRandom random = new SplittableRandom(11);
		Map<TenantId, Integer> expected = new HashMap<>();
		TenantTable<Integer> table = TenantTable.copyOf(Map.of());
		for (int round = 0; round < 3_000; round++) {
			Map<TenantId, Integer> changes = new HashMap<>();
			int count = 1 + random.nextInt(3);
			for (int i = 0; i < count; i++) {
				TenantId id = TenantId.of("t" + random.nextInt(4_000));
				changes.put(id, round);
			}
			Map<TenantId, Integer> before = new HashMap<>(expected);
			TenantTable<Integer> previous = table;
			table = table.with(changes);
			expected.putAll(changes);
			assertThat(table.size()).isEqualTo(expected.size());
			for (TenantId id : changes.keySet()) {
				assertThat(table.get(id)).isEqualTo(expected.get(id));
				assertThat(previous.get(id)).isEqualTo(before.get(id));
			}
		}
		TenantTable<Integer> last = table;
		expected.forEach((id, value) -> assertThat(last.get(id)).isEqualTo(value));
		Map<TenantId, Integer> seen = new HashMap<>();
		last.forEach(seen::put);
		assertThat(seen).isEqualTo(expected);
	}
}
