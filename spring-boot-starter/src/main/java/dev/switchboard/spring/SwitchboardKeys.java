package dev.switchboard.spring;

import java.lang.reflect.ParameterizedType;
import java.lang.reflect.RecordComponent;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.Map;

import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;

/**
 * The valid {@code switchboard.*} keys, read from the records of {@link SwitchboardProperties}
 * (a record component {@code maxSize} is the key {@code max-size}; a map takes any name; a list
 * any index), so that a setting added to a record is valid with no list to keep. Finds, for a key
 * none of them declares, the closest one that is declared.
 */
final class SwitchboardKeys {

	static final String PREFIX = "switchboard";

	private SwitchboardKeys() {
	}

	/**
	 * Return the valid key closest to {@code unknown}: the same up to its first element that
	 * matches no setting, which is replaced by the most similar setting at that place.
	 * @param unknown a key under {@code switchboard.} that did not bind
	 * @return the suggestion, or {@code null} when {@code unknown} is not under {@code switchboard.}
	 * or nothing at its place is close
	 */
	static @Nullable String closest(ConfigurationPropertyName unknown) {
		if (unknown.getNumberOfElements() < 2 || !PREFIX.equals(unknown.getElement(0, ConfigurationPropertyName.Form.UNIFORM))) {
			return null;
		}
		StringBuilder path = new StringBuilder(PREFIX);
		Type type = SwitchboardProperties.class;
		for (int i = 1; i < unknown.getNumberOfElements(); i++) {
			String element = unknown.getElement(i, ConfigurationPropertyName.Form.DASHED);
			Class<?> raw = raw(type);
			if (Map.class.isAssignableFrom(raw) || Collection.class.isAssignableFrom(raw)) {
				path.append(Collection.class.isAssignableFrom(raw) ? "[" + element + "]" : "." + element);
				type = argument(type, Map.class.isAssignableFrom(raw) ? 1 : 0);
				continue;
			}
			if (!raw.isRecord()) {
				// A value where the key goes deeper than any setting: the setting itself is meant.
				return path.toString();
			}
			RecordComponent match = null;
			RecordComponent best = null;
			int bestDistance = Integer.MAX_VALUE;
			for (RecordComponent component : raw.getRecordComponents()) {
				String name = dashed(component.getName());
				if (name.equals(element)) {
					match = component;
					break;
				}
				int distance = distance(name, element);
				if (distance < bestDistance) {
					best = component;
					bestDistance = distance;
				}
			}
			if (match == null) {
				if (best == null || bestDistance > Math.max(2, element.length() / 2)) {
					return null;
				}
				return path.append('.').append(dashed(best.getName())).toString();
			}
			path.append('.').append(element);
			type = match.getGenericType();
		}
		return null;
	}

	private static Class<?> raw(Type type) {
		if (type instanceof ParameterizedType parameterized) {
			return (Class<?>) parameterized.getRawType();
		}
		return type instanceof Class<?> cls ? cls : Object.class;
	}

	private static Type argument(Type type, int index) {
		return type instanceof ParameterizedType parameterized ? parameterized.getActualTypeArguments()[index] : Object.class;
	}

	/** {@code maxSize} as Boot's canonical key: {@code max-size}. */
	static String dashed(String name) {
		StringBuilder dashed = new StringBuilder(name.length() + 4);
		for (char c : name.toCharArray()) {
			if (Character.isUpperCase(c)) {
				dashed.append('-').append(Character.toLowerCase(c));
			}
			else {
				dashed.append(c);
			}
		}
		return dashed.toString();
	}

	/** The Levenshtein distance: how many letters to insert, delete or change. */
	static int distance(String a, String b) {
		int[] previous = new int[b.length() + 1];
		int[] current = new int[b.length() + 1];
		for (int j = 0; j <= b.length(); j++) {
			previous[j] = j;
		}
		for (int i = 1; i <= a.length(); i++) {
			current[0] = i;
			for (int j = 1; j <= b.length(); j++) {
				int change = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
				current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + change);
			}
			int[] swap = previous;
			previous = current;
			current = swap;
		}
		return previous[b.length()];
	}
}
