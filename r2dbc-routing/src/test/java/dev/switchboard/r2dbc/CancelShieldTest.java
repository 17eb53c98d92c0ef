package dev.switchboard.r2dbc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import org.reactivestreams.Publisher;
import org.junit.jupiter.api.Test;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.test.publisher.TestPublisher;
import reactor.test.subscriber.TestSubscriber;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalStateException;

class CancelShieldTest {

	@Test
	void aCancelBeforeAnyResultLetsTheExchangeRunOutAndReadsWhatArrives() {
		TestPublisher<Result> exchange = TestPublisher.create();
		TestSubscriber<Result> subscriber = TestSubscriber.create();
		CancelShield.results(exchange, null).subscribe(subscriber);
		subscriber.request(1);

		subscriber.cancel();

		exchange.assertNotCancelled();
		assertThat(exchange.wasRequested()).isTrue();
		FakeResult late = new FakeResult();
		exchange.next(late).complete();
		assertThat(late.read).as("the late result was read to its end").isTrue();
		assertThat(subscriber.getReceivedOnNext()).isEmpty();
		assertThat(subscriber.isTerminated()).isFalse();
	}

	@Test
	void aDrainedExchangeThatFailsTellsNobody() {
		TestPublisher<Void> exchange = TestPublisher.create();
		TestSubscriber<Void> subscriber = TestSubscriber.create();
		CancelShield.one(exchange).subscribe(subscriber);

		subscriber.cancel();
		exchange.error(new IllegalStateException("late"));

		exchange.assertNotCancelled();
		assertThat(subscriber.isTerminated()).isFalse();
	}

	@Test
	void aCancelAfterAResultReadsItToItsEndUnlessItsReaderClaimedIt() {
		TestPublisher<Result> exchange = TestPublisher.create();
		List<Result> received = new CopyOnWriteArrayList<>();
		TestSubscriber<Result> subscriber = TestSubscriber.builder().initialRequest(2).build();
		CancelShield.results(exchange, null).doOnNext(received::add).subscribe(subscriber);
		FakeResult read = new FakeResult();
		FakeResult unread = new FakeResult();

		exchange.next(read);
		Flux.from(received.get(0).getRowsUpdated()).blockLast();
		read.read = false;
		exchange.next(unread);
		subscriber.cancel();

		exchange.assertNotCancelled();
		assertThat(read.read).as("claimed by its reader: not read again").isFalse();
		assertThat(unread.read).as("handed out but never read: read to its end").isTrue();
		assertThat(received).hasSize(2);
		assertThatIllegalStateException().isThrownBy(() -> Flux.from(received.get(1).getRowsUpdated()).blockLast())
				.withMessageContaining("dropped after its statement was cancelled");
	}

	@Test
	void anExchangeThatIsNotCancelledPassesThrough() {
		TestPublisher<Boolean> exchange = TestPublisher.create();
		TestSubscriber<Boolean> subscriber = TestSubscriber.create();
		CancelShield.one(exchange).subscribe(subscriber);

		exchange.emit(true);

		assertThat(subscriber.getReceivedOnNext()).containsExactly(true);
		assertThat(subscriber.isTerminatedComplete()).isTrue();
	}

	/** A result that records whether it was read to its end. */
	static final class FakeResult implements Result {

		volatile boolean read;

		@Override
		public Publisher<Long> getRowsUpdated() {
			return Mono.fromSupplier(() -> {
				this.read = true;
				return 0L;
			});
		}

		@Override
		public <T> Publisher<T> map(BiFunction<Row, RowMetadata, ? extends T> mappingFunction) {
			return Mono.empty();
		}

		@Override
		public Result filter(Predicate<Segment> filter) {
			return this;
		}

		@Override
		public <T> Publisher<T> flatMap(Function<Segment, ? extends Publisher<? extends T>> mappingFunction) {
			return Mono.empty();
		}
	}
}
