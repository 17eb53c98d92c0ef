package dev.switchboard.spring;

import java.net.URI;
import java.util.List;

import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.core.Ordered;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.codec.HttpMessageWriter;
import org.springframework.http.codec.ServerCodecConfigurer;
import org.springframework.web.ErrorResponse;
import org.springframework.web.reactive.function.server.ServerResponse;
import org.springframework.web.reactive.result.view.ViewResolver;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;
import reactor.core.publisher.Mono;

/**
 * Answers the failures {@link SwitchboardProblems} knows (a {@code DataError} from a handler or the
 * tenant filter, a 403 for a tenant the caller may not use, an oversized body, Spring's own
 * {@code ErrorResponse}s such as the 404 of an unmapped path) with an RFC 9457
 * {@code application/problem+json} body, written by the application's codecs.
 *
 * <p>Ordered before Boot's {@code DefaultErrorWebExceptionHandler} (-1), which would answer a
 * {@code DataError} 500 in Boot's own JSON; after an application's {@code @ControllerAdvice},
 * which runs inside the dispatcher, before any exception handler. Other failures, and failures
 * after the response was committed, go on to the next handler. A 500 is logged at ERROR with its
 * cause, whose message the body does not show; other statuses are not logged. Thread-safe.
 */
public final class SwitchboardExceptionHandler implements WebExceptionHandler, Ordered {

	private static final Log logger = LogFactory.getLog(SwitchboardExceptionHandler.class);

	/** Before Boot's error handler, which is at -1. */
	public static final int ORDER = -2;

	private final ServerResponse.Context context;

	/**
	 * Create the handler.
	 * @param codecs the application's codecs, which write the problem detail
	 */
	public SwitchboardExceptionHandler(ServerCodecConfigurer codecs) {
		List<HttpMessageWriter<?>> writers = codecs.getWriters();
		this.context = new ServerResponse.Context() {
			@Override
			public List<HttpMessageWriter<?>> messageWriters() {
				return writers;
			}

			@Override
			public List<ViewResolver> viewResolvers() {
				return List.of();
			}
		};
	}

	@Override
	public Mono<Void> handle(ServerWebExchange exchange, Throwable failure) {
		ErrorResponse answer = SwitchboardProblems.answerTo(failure);
		if (answer == null || exchange.getResponse().isCommitted()) {
			return Mono.error(failure);
		}
		if (answer.getStatusCode().value() == 500) {
			// The body hides the driver's message; the operator needs it, as Boot logs its own 500s.
			logger.error("Switchboard: " + exchange.getRequest().getMethod() + " "
					+ exchange.getRequest().getURI().getRawPath() + " answered 500", failure);
		}
		ProblemDetail body = answer.getBody();
		if (body.getInstance() == null) {
			body.setInstance(URI.create(exchange.getRequest().getURI().getRawPath()));
		}
		return ServerResponse.status(answer.getStatusCode())
				.headers(headers -> headers.addAll(answer.getHeaders()))
				.contentType(MediaType.APPLICATION_PROBLEM_JSON)
				.bodyValue(body)
				.flatMap(response -> response.writeTo(exchange, this.context));
	}

	@Override
	public int getOrder() {
		return ORDER;
	}
}
