package dev.switchboard.r2dbc;

import java.util.List;
import java.util.function.Function;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Disposes resources for the registry, datasources and factory alike: all of them, even when
 * some fail, keeping every failure.
 */
final class Disposal {

	private Disposal() {
	}

	/**
	 * Dispose each item in turn; the first failure is emitted at the end, with the later ones
	 * added to it as suppressed.
	 */
	static <T> Mono<Void> each(Iterable<T> items, Function<T, Mono<Void>> dispose) {
		return Flux.fromIterable(items)
				.concatMap(item -> dispose.apply(item).then(Mono.<Throwable>empty()).onErrorResume(Mono::just))
				.collectList()
				.flatMap(Disposal::firstWithSuppressed);
	}

	/** Dispose one resource the way it prefers: reactively if it can, else by blocking. */
	static Mono<Void> of(Object resource) {
		if (resource instanceof AsyncDisposable disposable) {
			return disposable.disposeLater();
		}
		if (resource instanceof Disposable disposable) {
			return Mono.fromRunnable(disposable::dispose);
		}
		return Mono.empty();
	}

	private static Mono<Void> firstWithSuppressed(List<Throwable> failures) {
		if (failures.isEmpty()) {
			return Mono.empty();
		}
		Throwable first = failures.get(0);
		for (int i = 1; i < failures.size(); i++) {
			first.addSuppressed(failures.get(i));
		}
		return Mono.error(first);
	}
}
