package dev.switchboard.r2dbc;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;

import io.r2dbc.spi.Connection;
import io.r2dbc.spi.Result;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscription;
import reactor.core.CoreSubscriber;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.publisher.Operators;
import reactor.util.context.Context;

/**
 * Keeps a subscriber's cancel away from a driver exchange: a cancelled exchange runs to its end,
 * and what it emits, or emitted without anyone reading it, is read to its end and dropped.
 *
 * <p>A cancel that reaches r2dbc-mysql 1.4.3 while it hands a queued exchange to its subscriber
 * can stall the connection's request queue: every later exchange on that connection waits
 * forever, including the rollback that r2dbc-pool runs when the connection is released, so the
 * connection stays acquired. The race is in the driver's {@code RequestQueue}, which checks whether
 * the task it ran was cancelled before the cancel has marked it. A result that was emitted but
 * never read stalls the queue the same way: the driver waits for demand that never comes.
 * Measured on the dev-db MariaDB replica with a plain r2dbc-pool: 2 to 4 of 4 connections lost
 * in 30,000 {@code SELECT 1}s timed out at random ({@code CancelShieldIT}).
 *
 * <p>So the shield never cancels the driver's exchange. When its subscriber cancels, it asks for
 * everything that is left, reads each result that nobody claimed (see {@link RoutedResult#claim()})
 * to its end, and drops it: what the drivers already do with a cancelled exchange they have
 * started (r2dbc-mysql and r2dbc-postgresql read it to its end rather than interrupt the server).
 * A cancelled exchange is counted in its connection's {@link Drains} until it ends, and the
 * connection's release waits for it. One subscriber and one compare-and-set per exchange; no lock.
 */
final class CancelShield<T> implements CoreSubscriber<T>, Subscription {

	/** What the shield passes: a single answer, a statement's results, or a pooled connection. */
	private enum Kind {
		ONE, RESULTS, CONNECTION
	}

	private static final int CANCELLED = 1;

	private static final int TERMINATED = 2;

	@SuppressWarnings("rawtypes")
	private static final AtomicIntegerFieldUpdater<CancelShield> STATE =
			AtomicIntegerFieldUpdater.newUpdater(CancelShield.class, "state");

	private static final RoutedResult[] NONE = {};

	private final CoreSubscriber<? super T> actual;

	private final Kind kind;

	/** The connection that classifies the results' failures, or {@code null}. */
	private final @Nullable RoutedConnection connection;

	/** Counts this exchange while it runs on after a cancel, or {@code null}. */
	private final @Nullable Drains drains;

	/** Counted by {@link #drains} from its start (a fenced connection), not only after a cancel. */
	private final boolean counted;

	/** The statement whose results these are, for classifying their failures, or {@code null}. */
	private final @Nullable String sql;

	private @Nullable Subscription upstream;

	/** {@link #CANCELLED} and {@link #TERMINATED}, each set once. */
	private volatile int state;

	/**
	 * The results handed to the subscriber, for a cancel to read those nobody claimed: the first
	 * (most statements have one, and need no array), then the others. Written only by
	 * {@code onNext}, which the Reactive Streams rules serialize, read by {@code cancel}.
	 */
	private volatile @Nullable RoutedResult first;

	private volatile RoutedResult[] others = NONE;

	private CancelShield(CoreSubscriber<? super T> actual, Kind kind, @Nullable RoutedConnection connection,
			@Nullable Drains drains, boolean counted, @Nullable String sql) {
		this.actual = actual;
		this.kind = kind;
		this.connection = connection;
		this.drains = drains;
		this.counted = counted;
		this.sql = sql;
	}

	/**
	 * Subscribe {@code actual} to {@code source} through a shield, if {@code drains} admits the
	 * exchange and, for a statement, the caller's context names the connection's tenant; else
	 * signal why not, and send nothing.
	 */
	@SuppressWarnings("unchecked")
	private static <T> void admit(Publisher<? extends T> source, CoreSubscriber<? super T> actual, Kind kind,
			@Nullable RoutedConnection connection, @Nullable Drains drains, boolean end, @Nullable String sql) {
		int admitted = drains == null ? Drains.UNCOUNTED : end ? drains.admitEnd() : drains.admit();
		if (admitted == Drains.REFUSED) {
			Operators.error(actual, classified(drains.refusal(), kind, connection, sql));
			return;
		}
		// A statement's caller must name the connection's tenant; a single exchange (a BEGIN, a
		// release) only has its failures classified by the connection.
		Throwable conflict = connection != null && kind == Kind.RESULTS
				? RoutingConflict.ofStatement(connection, actual.currentContext())
				: null;
		if (conflict != null) {
			if (admitted == Drains.COUNTED) {
				drains.ended();
			}
			Operators.error(actual, classified(conflict, kind, connection, sql));
			return;
		}
		((Publisher<T>) source).subscribe(new CancelShield<>(actual, kind, connection, drains,
				admitted == Drains.COUNTED, sql));
	}

	/**
	 * A failure as its connection classifies it: a statement's by
	 * {@link RoutedConnection#classifyStatement}, a single exchange's by
	 * {@link RoutedConnection#classify}; unchanged without a connection. Here rather than in an
	 * {@code onErrorMap} after the shield: that operator cost a statement three objects and 100
	 * bytes, and the release of its connection as much again (issue 20).
	 */
	private static Throwable classified(Throwable failure, Kind kind, @Nullable RoutedConnection connection,
			@Nullable String sql) {
		if (connection == null) {
			return failure;
		}
		return kind == Kind.RESULTS ? connection.classifyStatement(failure, sql) : connection.classify(failure);
	}

	/**
	 * Shield a statement's execution: its results reach the subscriber as {@link RoutedResult}s,
	 * and after a cancel every result nobody read is read to its end. Its failures, and a refusal,
	 * reach the subscriber classified by {@code connection}.
	 * @param source the driver's {@code execute()}
	 * @param connection the connection that classifies the statement's and its results' failures, or {@code null}
	 * @param drains what counts the exchange while it runs on after a cancel, or {@code null}
	 * @param sql the statement, for classifying its results' failures, or {@code null} (a batch)
	 * @return the shielded publisher
	 */
	static Flux<Result> results(Publisher<? extends Result> source, @Nullable RoutedConnection connection,
			@Nullable Drains drains, @Nullable String sql) {
		return ShieldedResults.assemble(source, connection, drains, sql);
	}

	/**
	 * Shield an exchange of at most one answer, such as a {@code BEGIN}, a validation or a release;
	 * refused once {@code drains} is sealed.
	 * @param source the driver's publisher
	 * @param drains what counts the exchange while it runs on after a cancel, or {@code null}
	 * @return the shielded publisher
	 */
	static <T> Mono<T> one(Publisher<T> source, @Nullable Drains drains) {
		return Shielded.assemble(source, drains, false, null);
	}

	/**
	 * {@link #one(Publisher, Drains)}, its failures and its refusal classified by
	 * {@code connection} ({@link RoutedConnection#classify}).
	 * @param source the driver's publisher
	 * @param drains what counts the exchange while it runs on after a cancel, or {@code null}
	 * @param connection the connection that classifies the failures
	 * @return the shielded publisher
	 */
	static <T> Mono<T> oneClassified(Publisher<T> source, @Nullable Drains drains, RoutedConnection connection) {
		return Shielded.assemble(source, drains, false, connection);
	}

	/**
	 * Subscribe {@code actual} to {@code source} as {@link #oneClassified} would, without a
	 * publisher of its own: for a publisher that is already the operator of its exchange.
	 * @param source the driver's publisher
	 * @param actual the subscriber
	 * @param connection the connection that classifies the failures
	 */
	static <T> void subscribeOne(Publisher<? extends T> source, CoreSubscriber<? super T> actual,
			RoutedConnection connection) {
		admit(source, actual, Kind.ONE, connection, null, false, null);
	}

	/**
	 * Shield an exchange that a sealed connection still admits: the end of its transaction (a
	 * commit or rollback) and the session settings a transaction manager restores after it.
	 * Counted in a fence, so that the release waits for it.
	 * @param source the driver's publisher
	 * @param drains the connection's drains
	 * @return the shielded publisher
	 */
	static <T> Mono<T> end(Publisher<T> source, Drains drains) {
		return Shielded.assemble(source, drains, true, null);
	}

	/**
	 * {@link #end(Publisher, Drains)}, its failures and its refusal classified by
	 * {@code connection} ({@link RoutedConnection#classify}).
	 * @param source the driver's publisher
	 * @param connection the connection: its drains, and what classifies the failures
	 * @return the shielded publisher
	 */
	static <T> Mono<T> endClassified(Publisher<T> source, RoutedConnection connection) {
		return Shielded.assemble(source, connection, true, connection);
	}

	/**
	 * Shield a pool's acquisition: a cancel does not reach the pool, and a connection that arrives
	 * after it is closed. r2dbc-pool 1.0.2 returns a connection to its pool when the acquisition
	 * is cancelled, even after it emitted the connection, which the subscriber then still holds:
	 * the pool hands it to a second borrower while the first uses it.
	 * @param source the pool's {@code create()}
	 * @return the shielded publisher
	 */
	static Mono<Connection> acquire(Publisher<? extends Connection> source) {
		return ShieldedAcquisition.assemble(source);
	}

	@Override
	public Context currentContext() {
		return this.actual.currentContext();
	}

	@Override
	public void onSubscribe(Subscription subscription) {
		if (Operators.validate(this.upstream, subscription)) {
			this.upstream = subscription;
			this.actual.onSubscribe(this);
		}
	}

	@Override
	@SuppressWarnings("unchecked")
	public void onNext(T element) {
		if (this.kind != Kind.RESULTS) {
			if ((this.state & CANCELLED) == 0) {
				this.actual.onNext(element);
			}
			else if (this.kind == Kind.CONNECTION) {
				Mono.from(((Connection) element).close()).onErrorComplete().subscribe();
			}
			return;
		}
		RoutedResult result = new RoutedResult((Result) element, this.connection, this.sql);
		// Remembered before the state is read; cancel() sets the state before it reads this.
		if (this.first == null) {
			this.first = result;
		}
		else {
			RoutedResult[] before = this.others;
			RoutedResult[] after = Arrays.copyOf(before, before.length + 1);
			after[before.length] = result;
			this.others = after;
		}
		if ((this.state & CANCELLED) == 0) {
			this.actual.onNext((T) result);
		}
		else {
			readToEnd(result);
		}
	}

	@Override
	public void onError(Throwable failure) {
		// A drained exchange has no subscriber left to tell.
		if ((terminate() & CANCELLED) == 0) {
			this.actual.onError(classified(failure, this.kind, this.connection, this.sql));
		}
	}

	@Override
	public void onComplete() {
		if ((terminate() & CANCELLED) == 0) {
			this.actual.onComplete();
		}
	}

	private int terminate() {
		int before = set(TERMINATED);
		if (this.drains != null && (this.counted || (before & CANCELLED) != 0)) {
			this.drains.ended();
		}
		return before;
	}

	@Override
	public void request(long n) {
		this.upstream.request(n);
	}

	@Override
	public void cancel() {
		// A counted exchange is counted until it ends, cancelled or not.
		Drains drains = this.counted ? null : this.drains;
		// Counted before the cancel is visible, so that the end of the exchange cannot be counted first.
		if (drains != null) {
			drains.started();
		}
		int before = set(CANCELLED);
		if (drains != null && (before & (CANCELLED | TERMINATED)) != 0) {
			// Cancelled before, or the exchange is over: nothing runs on.
			drains.ended();
		}
		if ((before & CANCELLED) != 0) {
			return;
		}
		RoutedResult result = this.first;
		if (result != null) {
			readToEnd(result);
			for (RoutedResult other : this.others) {
				readToEnd(other);
			}
		}
		if ((before & TERMINATED) == 0) {
			this.upstream.request(Long.MAX_VALUE);
		}
	}

	private int set(int bit) {
		for (;;) {
			int before = this.state;
			if ((before & bit) != 0 || STATE.compareAndSet(this, before, before | bit)) {
				return before;
			}
		}
	}

	private static void readToEnd(RoutedResult result) {
		if (result.claim()) {
			Flux.from(result.unwrap().getRowsUpdated()).onErrorComplete().subscribe();
		}
	}

	/**
	 * The publisher of a shielded exchange of at most one answer. Assembled through Reactor's
	 * hooks, so that {@code Hooks.onOperatorDebug()} and {@code checkpoint()} see it like any
	 * operator.
	 */
	private static final class Shielded<T> extends Mono<T> {

		private final Publisher<? extends T> source;

		private final @Nullable Drains drains;

		/** An end of a transaction, which a sealed connection still admits. */
		private final boolean end;

		/** Classifies the failures, or {@code null} to pass them as they are. */
		private final @Nullable RoutedConnection classifier;

		private Shielded(Publisher<? extends T> source, @Nullable Drains drains, boolean end,
				@Nullable RoutedConnection classifier) {
			this.source = source;
			this.drains = drains;
			this.end = end;
			this.classifier = classifier;
		}

		static <T> Mono<T> assemble(Publisher<? extends T> source, @Nullable Drains drains, boolean end,
				@Nullable RoutedConnection classifier) {
			return onAssembly(new Shielded<>(source, drains, end, classifier));
		}

		@Override
		public void subscribe(CoreSubscriber<? super T> actual) {
			admit(this.source, actual, Kind.ONE, this.classifier, this.drains, this.end, null);
		}
	}

	/** The publisher of a shielded pool acquisition, assembled as {@link Shielded} is. */
	private static final class ShieldedAcquisition extends Mono<Connection> {

		private final Publisher<? extends Connection> source;

		private ShieldedAcquisition(Publisher<? extends Connection> source) {
			this.source = source;
		}

		static Mono<Connection> assemble(Publisher<? extends Connection> source) {
			return onAssembly(new ShieldedAcquisition(source));
		}

		@Override
		public void subscribe(CoreSubscriber<? super Connection> actual) {
			this.source.subscribe(new CancelShield<>(actual, Kind.CONNECTION, null, null, false, null));
		}
	}

	/** The publisher of a shielded statement's results, assembled as {@link Shielded} is. */
	private static final class ShieldedResults extends Flux<Result> {

		private final Publisher<? extends Result> source;

		private final @Nullable RoutedConnection connection;

		private final @Nullable Drains drains;

		private final @Nullable String sql;

		private ShieldedResults(Publisher<? extends Result> source, @Nullable RoutedConnection connection,
				@Nullable Drains drains, @Nullable String sql) {
			this.source = source;
			this.connection = connection;
			this.drains = drains;
			this.sql = sql;
		}

		static Flux<Result> assemble(Publisher<? extends Result> source, @Nullable RoutedConnection connection,
				@Nullable Drains drains, @Nullable String sql) {
			return onAssembly(new ShieldedResults(source, connection, drains, sql));
		}

		@Override
		public void subscribe(CoreSubscriber<? super Result> actual) {
			admit(this.source, actual, Kind.RESULTS, this.connection, this.drains, false, this.sql);
		}
	}
}
