package dev.switchboard.r2dbc;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Predicate;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import io.r2dbc.spi.Row;
import io.r2dbc.spi.RowMetadata;
import io.r2dbc.spi.test.MockConnection;
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
		CancelShield.results(exchange, null, null, null).subscribe(subscriber);
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
		CancelShield.one(exchange, null).subscribe(subscriber);

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
		CancelShield.results(exchange, null, null, null).doOnNext(received::add).subscribe(subscriber);
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
		CancelShield.one(exchange, null).subscribe(subscriber);

		exchange.emit(true);

		assertThat(subscriber.getReceivedOnNext()).containsExactly(true);
		assertThat(subscriber.isTerminatedComplete()).isTrue();
	}

	@Test
	void theReleaseWaitsForAnExchangeThatACancelLeftRunning() {
		Drains drains = new Drains();
		TestPublisher<Void> exchange = TestPublisher.create();
		TestSubscriber<Void> subscriber = TestSubscriber.create();
		CancelShield.one(exchange, drains).subscribe(subscriber);
		AtomicBoolean released = new AtomicBoolean();
		Mono<Void> release = drains.whenQuiet(Mono.fromRunnable(() -> released.set(true)));

		subscriber.cancel();
		release.subscribe();

		assertThat(drains.quiet()).isFalse();
		assertThat(released).as("the exchange still runs").isFalse();
		exchange.complete();
		assertThat(drains.quiet()).isTrue();
		assertThat(released).as("released once the exchange ended").isTrue();
	}

	@Test
	void aCancelAfterTheExchangeEndedLeavesNothingToWaitFor() {
		Drains drains = new Drains();
		TestPublisher<Result> exchange = TestPublisher.create();
		TestSubscriber<Result> subscriber = TestSubscriber.create();
		CancelShield.results(exchange, null, drains, null).subscribe(subscriber);

		exchange.complete();
		subscriber.cancel();
		subscriber.cancel();

		assertThat(drains.quiet()).isTrue();
		assertThat(subscriber.isTerminatedComplete()).isTrue();
	}

	@Test
	void everyWaitingReleaseRunsWhenTheLastOfSeveralExchangesEnds() {
		Drains drains = new Drains();
		TestPublisher<Void> first = TestPublisher.create();
		TestPublisher<Void> second = TestPublisher.create();
		TestSubscriber<Void> one = TestSubscriber.create();
		TestSubscriber<Void> two = TestSubscriber.create();
		CancelShield.one(first, drains).subscribe(one);
		CancelShield.one(second, drains).subscribe(two);
		List<String> released = new CopyOnWriteArrayList<>();

		one.cancel();
		two.cancel();
		drains.whenQuiet(Mono.fromRunnable(() -> released.add("a"))).subscribe();
		drains.whenQuiet(Mono.fromRunnable(() -> released.add("b"))).subscribe();
		first.error(new IllegalStateException("late"));

		assertThat(released).as("one exchange still runs").isEmpty();
		second.complete();
		assertThat(released).containsExactly("a", "b");
	}

	@Test
	void aConnectionThatArrivesAfterTheCancelIsClosedNotHandedOut() {
		TestPublisher<Connection> pool = TestPublisher.create();
		TestSubscriber<Connection> subscriber = TestSubscriber.create();
		CancelShield.acquire(pool).subscribe(subscriber);
		MockConnection late = MockConnection.builder().build();

		subscriber.cancel();

		pool.assertNotCancelled();
		pool.next(late).complete();
		assertThat(late.isCloseCalled()).as("closed, which returns it to its pool").isTrue();
		assertThat(subscriber.getReceivedOnNext()).isEmpty();
		assertThat(subscriber.isTerminated()).isFalse();
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
