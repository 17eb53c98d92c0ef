package dev.switchboard.r2dbc;

import reactor.util.context.Context;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

import dev.switchboard.api.DataError;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.Connection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;
import reactor.core.publisher.Mono;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * The directory's operations without a server: each bad input is refused with its classified
 * error and changes nothing; offboarded tenants route to {@code TENANT_OFFBOARDED}; and every
 * operation that waits for a drain completes when the last routed connection is back, not before.
 */
class TenantDirectoryTest {

	final FakeDataSource pg = new FakeDataSource("pg-main");

	final FakeDataSource maria = new FakeDataSource("maria-main");

	final FakeDataSource spare = new FakeDataSource("spare");

	final TenantDirectory directory = TenantDirectory.builder()
			.dataSource(this.pg)
			.dataSource(this.maria)
			.dataSource(this.spare)
			.tenant("acme", "pg-main")
			.tenant("globex", "maria-main")
			.tenant("gone", "pg-main")
			.build();

	final RoutingConnectionFactory routing = new RoutingConnectionFactory(this.directory);

	TenantDirectoryTest() {
		this.directory.offboard(TenantId.of("gone")).block(Duration.ofSeconds(1));
	}

	@AfterEach
	void close() {
		this.directory.dispose();
	}

	// ---- bad input: the classified error, nothing changed

	@ParameterizedTest
	@NullSource
	@ValueSource(strings = { "", " ", "has space", "semi;colon", "quote'", "ünïcode", "-leading" })
	void malformedTenantIdsAreRefusedByEveryOperation(String id) {
		List<DirectoryEntry> before = this.directory.entries();

		assertInvalidTenantId(() -> this.directory.onboard(id, "pg-main"));
		assertInvalidTenantId(() -> this.directory.onboard(tenantOrNull(id), Placement.on("pg-main")));
		assertInvalidTenantId(() -> this.directory.move(tenantOrNull(id), Placement.on("maria-main")));
		assertInvalidTenantId(() -> this.directory.offboard(tenantOrNull(id)));

		assertThat(this.directory.entries()).isEqualTo(before);
	}

	@ParameterizedTest
	@NullSource
	@ValueSource(strings = { "", "   " })
	void placementsNamingNoDataSourceAreRefused(String name) {
		List<DirectoryEntry> before = this.directory.entries();

		assertRefused(() -> this.directory.onboard("initech", name), DirectoryException.Reason.INVALID_PLACEMENT);
		assertRefused(() -> this.directory.onboard(TenantId.of("initech"), null),
				DirectoryException.Reason.INVALID_PLACEMENT);
		assertRefused(() -> this.directory.move(TenantId.of("acme"), null), DirectoryException.Reason.INVALID_PLACEMENT);

		assertThat(this.directory.entries()).isEqualTo(before);
	}

	@Test
	void placementsOnUnknownDataSourcesAreRefused() {
		List<DirectoryEntry> before = this.directory.entries();

		assertRefused(() -> this.directory.onboard("initech", "pg-nowhere"), DirectoryException.Reason.INVALID_PLACEMENT);
		assertRefused(() -> this.directory.move(TenantId.of("acme"), Placement.on("pg-nowhere")),
				DirectoryException.Reason.INVALID_PLACEMENT);

		assertThat(this.directory.entries()).isEqualTo(before);
		assertThat(this.directory.getDataSource(TenantId.of("initech"))).isNull();
		assertThat(this.directory.placement(TenantId.of("acme"))).isEqualTo(Placement.on("pg-main"));
	}

	@Test
	void onboardingAnExistingTenantIsRefusedNotOverwritten() {
		List<DirectoryEntry> before = this.directory.entries();

		DirectoryException refused = assertRefused(() -> this.directory.onboard("acme", "maria-main"),
				DirectoryException.Reason.TENANT_EXISTS);

		assertThat(refused.tenant()).isEqualTo("acme");
		assertThat(this.directory.entries()).isEqualTo(before);
		assertThat(this.directory.obtainDataSource(TenantId.of("acme"))).isSameAs(this.pg);
	}

	@Test
	void movingOrOffboardingAnUnknownOrOffboardedTenantIsRefused() {
		List<DirectoryEntry> before = this.directory.entries();

		for (String tenant : new String[] { "hooli", "gone" }) {
			assertRefused(() -> this.directory.move(TenantId.of(tenant), Placement.on("maria-main")),
					DirectoryException.Reason.UNKNOWN_TENANT);
			assertRefused(() -> this.directory.offboard(TenantId.of(tenant)), DirectoryException.Reason.UNKNOWN_TENANT);
		}

		assertThat(this.directory.entries()).isEqualTo(before);
	}

	@Test
	void dataSourcesInUseUnknownOrDuplicateAreRefused() {
		List<DirectoryEntry> before = this.directory.entries();

		assertRefused(() -> this.directory.removeDataSource("pg-main"), DirectoryException.Reason.DATASOURCE_IN_USE);
		assertRefused(() -> this.directory.removeDataSource("pg-nowhere"), DirectoryException.Reason.UNKNOWN_DATASOURCE);
		assertRefused(() -> this.directory.removeDataSource(null), DirectoryException.Reason.UNKNOWN_DATASOURCE);
		assertRefused(() -> this.directory.addDataSource(new FakeDataSource("pg-main")),
				DirectoryException.Reason.DATASOURCE_EXISTS);
		assertRefused(() -> this.directory.addDataSource(null), DirectoryException.Reason.INVALID_PLACEMENT);

		assertThat(this.directory.entries()).isEqualTo(before);
		assertThat(this.directory.dataSources()).containsExactly(this.pg, this.maria, this.spare);
		assertThat(this.pg.disposals.get() + this.maria.disposals.get() + this.spare.disposals.get()).isZero();
	}

	@Test
	void everyOperationAfterDisposeIsRefused() {
		List<DirectoryEntry> before = this.directory.entries();
		this.directory.dispose();

		assertRefused(() -> this.directory.onboard("initech", "pg-main"), DirectoryException.Reason.DISPOSED);
		assertRefused(() -> this.directory.move(TenantId.of("acme"), Placement.on("maria-main")),
				DirectoryException.Reason.DISPOSED);
		assertRefused(() -> this.directory.offboard(TenantId.of("acme")), DirectoryException.Reason.DISPOSED);
		assertRefused(() -> this.directory.addDataSource(new FakeDataSource("late")), DirectoryException.Reason.DISPOSED);
		assertRefused(() -> this.directory.removeDataSource("spare"), DirectoryException.Reason.DISPOSED);

		assertThat(this.directory.entries()).isEqualTo(before);
		assertThat(this.pg.disposals).hasValue(1);
		assertThat(this.spare.disposals).hasValue(1);
	}

	// ---- routing: gone versus never existed

	@Test
	void anOffboardedTenantRoutesToTenantOffboardedANeverKnownOneToUnknownTenant() {
		assertThat(routingError("gone").kind()).isEqualTo(DataError.Kind.TENANT_OFFBOARDED);
		assertThat(routingError("hooli").kind()).isEqualTo(DataError.Kind.UNKNOWN_TENANT);
		assertThat(((DataError) catchThrowable(() -> this.directory.obtainDataSource(TenantId.of("gone")))).kind())
				.isEqualTo(DataError.Kind.TENANT_OFFBOARDED);
		assertThat(((DataError) catchThrowable(() -> this.directory.obtainDataSource(TenantId.of("hooli")))).kind())
				.isEqualTo(DataError.Kind.UNKNOWN_TENANT);
		assertThat(this.directory.entries()).filteredOn(entry -> entry.tenant().value().equals("gone"))
				.containsExactly(new DirectoryEntry(TenantId.of("gone"), null, DirectoryEntry.State.OFFBOARDED, 0));
		assertThat(this.directory.tenants()).containsExactlyInAnyOrder(TenantId.of("acme"), TenantId.of("globex"));
	}

	@Test
	void anOffboardedTenantCanBeOnboardedAgainAnywhere() {
		this.directory.onboard("gone", "maria-main").block(Duration.ofSeconds(1));

		assertThat(targetOf("gone")).isEqualTo("maria-main/primary");
		assertThat(this.directory.placement(TenantId.of("gone"))).isEqualTo(Placement.on("maria-main"));
	}

	// ---- drains: the Mono completes when the last lease is back

	@Test
	void offboardCompletesOnlyWhenTheLastConnectionIsBack() throws Exception {
		Connection held = connect("acme");

		CompletableFuture<Void> offboarded = this.directory.offboard(TenantId.of("acme")).toFuture();

		assertThat(routingError("acme").kind()).isEqualTo(DataError.Kind.TENANT_OFFBOARDED);
		pause();
		assertThat(offboarded).isNotDone();
		assertThat(this.directory.entries()).contains(
				new DirectoryEntry(TenantId.of("acme"), Placement.on("pg-main"), DirectoryEntry.State.DRAINING, 1));
		Mono.from(held.close()).block(Duration.ofSeconds(1));
		offboarded.get(1, TimeUnit.SECONDS);
		assertThat(this.directory.entries()).filteredOn(entry -> entry.tenant().value().equals("acme"))
				.extracting(DirectoryEntry::state).containsExactly(DirectoryEntry.State.OFFBOARDED);
	}

	@Test
	void moveSendsNewWorkToTheNewPlacementAndCompletesWhenTheOldOneIsDone() throws Exception {
		Connection held = connect("acme");

		CompletableFuture<Void> moved = this.directory.move(TenantId.of("acme"), Placement.on("maria-main")).toFuture();

		assertThat(targetOf("acme")).isEqualTo("maria-main/primary");
		pause();
		assertThat(moved).isNotDone();
		assertThat(((RoutedConnection) held).target().name()).isEqualTo("pg-main/primary");
		Mono.from(held.close()).block(Duration.ofSeconds(1));
		moved.get(1, TimeUnit.SECONDS);
	}

	@Test
	void offboardAfterAMoveWaitsForTheConnectionsStillOnTheOldPlacement() throws Exception {
		Connection onOld = connect("acme");
		this.directory.move(TenantId.of("acme"), Placement.on("maria-main")).subscribe();

		CompletableFuture<Void> offboarded = this.directory.offboard(TenantId.of("acme")).toFuture();

		pause();
		assertThat(offboarded).as("the tenant still has a connection on pg-main").isNotDone();
		Mono.from(onOld.close()).block(Duration.ofSeconds(1));
		offboarded.get(1, TimeUnit.SECONDS);
	}

	@Test
	void removeDataSourceDisposesItOnceAfterItsDrainingTenantsFinish() throws Exception {
		Connection held = connect("acme");
		this.directory.offboard(TenantId.of("gone")).onErrorComplete().block();
		this.directory.move(TenantId.of("acme"), Placement.on("maria-main")).subscribe();

		CompletableFuture<Void> removed = this.directory.removeDataSource("pg-main").toFuture();

		pause();
		assertThat(removed).isNotDone();
		assertThat(this.pg.disposals).hasValue(0);
		assertThat(this.directory.dataSources()).doesNotContain(this.pg);
		assertRefused(() -> this.directory.onboard("initech", "pg-main"), DirectoryException.Reason.INVALID_PLACEMENT);
		Mono.from(held.close()).block(Duration.ofSeconds(1));
		removed.get(1, TimeUnit.SECONDS);
		assertThat(this.pg.disposals).hasValue(1);
		this.directory.dispose();
		assertThat(this.pg.disposals).as("disposed once, not again with the directory").hasValue(1);
		assertThat(this.maria.disposals).hasValue(1);
	}

	@Test
	void aDataSourceRemovedByAListenerAsItsLastTenantMovesAwayIsDisposedOnceDrained() throws Exception {
		FakeDataSource old = new FakeDataSource("old");
		AtomicReference<TenantDirectory> self = new AtomicReference<>();
		AtomicReference<CompletableFuture<Void>> removed = new AtomicReference<>();
		// Told of the move as soon as the new snapshot is out, the listener removes the datasource left empty.
		TenantDirectory reacting = TenantDirectory.builder()
				.dataSource(old)
				.dataSource(this.spare)
				.tenant("acme", "old")
				.listener(new DirectoryListener() {
					@Override
					public void moved(TenantId tenant, Placement from, Placement to) {
						removed.set(self.get().removeDataSource(from.dataSource()).toFuture());
					}
				})
				.build();
		self.set(reacting);
		try {
			reacting.move(TenantId.of("acme"), Placement.on("spare")).block(Duration.ofSeconds(1));

			removed.get().get(1, TimeUnit.SECONDS);
			assertThat(old.disposals).hasValue(1);
		}
		finally {
			reacting.dispose();
		}
	}

	// ---- helpers

	static TenantId tenantOrNull(String id) {
		return TenantId.isValid(id) ? TenantId.of(id) : null;
	}

	Connection connect(String tenant) {
		return this.routing.create().contextWrite(RoutingContext.forTenant(tenant)).block(Duration.ofSeconds(1));
	}

	String targetOf(String tenant) {
		RoutedConnection connection = (RoutedConnection) connect(tenant);
		Mono.from(connection.close()).block(Duration.ofSeconds(1));
		return connection.target().name();
	}

	DataError routingError(String tenant) {
		return (DataError) catchThrowable(() -> connect(tenant));
	}

	static void pause() throws InterruptedException {
		Thread.sleep(50);
	}

	static void assertInvalidTenantId(Supplier<Mono<Void>> operation) {
		Throwable failure = catchThrowable(() -> operation.get().block(Duration.ofSeconds(1)));
		assertThat(failure).isInstanceOfSatisfying(DataError.class,
				error -> assertThat(error.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID));
	}

	static DirectoryException assertRefused(Supplier<Mono<Void>> operation, DirectoryException.Reason reason) {
		Throwable failure = catchThrowable(() -> operation.get().block(Duration.ofSeconds(1)));
		assertThat(failure).isInstanceOfSatisfying(DirectoryException.class,
				refused -> assertThat(refused.reason()).isEqualTo(reason));
		return (DirectoryException) failure;
	}

	@Test
	void aTransactionPreparedForTheDatasourceATenantLeftIsRefusedAsMovedNotRoutedToTheNewOne() {
		// A facade transaction resolves the tenant's datasource (its dialect), then routes its BEGIN:
		// a move in between must not send the transaction, rendered for the old one, to the new one.
		TenantId acme = TenantId.of("acme");
		TransactionBinding preparedOnPg = TransactionBinding.of(acme, this.pg, null);
		this.directory.move(acme, Placement.on("maria-main")).block(Duration.ofSeconds(1));

		Context context = preparedOnPg.writer().apply(RoutingContext.forTenant("acme").apply(Context.empty()));
		Object failure = this.routing.createForTransaction(context)
				.map(Object.class::cast)
				.onErrorResume(Mono::just)
				.block(Duration.ofSeconds(1));

		assertThat(failure).isInstanceOfSatisfying(DataError.class, error -> {
			assertThat(error.kind()).isEqualTo(DataError.Kind.TENANT_MOVED);
			assertThat(error.getMessage()).contains("moved from datasource 'pg-main' to 'maria-main'");
		});
		assertThat(this.directory.entries()).filteredOn(entry -> entry.tenant().equals(acme))
				.allSatisfy(entry -> assertThat(entry.connections()).isZero());
	}
}
