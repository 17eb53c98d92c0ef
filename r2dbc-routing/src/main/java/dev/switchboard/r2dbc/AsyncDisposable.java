package dev.switchboard.r2dbc;

import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * A resource of this module that disposes without blocking: the registry and its datasources.
 */
interface AsyncDisposable extends Disposable {

	/**
	 * Dispose, once.
	 * @return a {@code Mono} that completes when disposed; subscribing again replays the outcome
	 */
	Mono<Void> disposeLater();
}
