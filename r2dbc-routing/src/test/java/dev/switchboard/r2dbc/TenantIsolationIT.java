package dev.switchboard.r2dbc;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.time.Duration;

import dev.switchboard.api.AccessIntent;
import dev.switchboard.api.RoutingContext;
import dev.switchboard.r2dbc.test.DevDatabases;
import dev.switchboard.r2dbc.test.Fixtures;
import dev.switchboard.r2dbc.test.Sql;
import dev.switchboard.r2dbc.test.Topology;
import io.r2dbc.spi.Connection;
import io.r2dbc.spi.ConnectionFactories;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Ten tenants, each in its own database, five on PostgreSQL and five on MariaDB, hammered by
 * concurrent pipelines whose routing contexts interleave: no row ever crosses tenants.
 */
@ExtendWith(DevDatabases.class)
class TenantIsolationIT {

	static final int TENANTS_PER_ENGINE = 5;

	static final int OPERATIONS = 20_000;

	static final int CONCURRENCY = 64;

	static final List<Tenant> tenants = new ArrayList<>();

	static final List<ReplicatedDataSource> dataSources = new ArrayList<>();

	static RoutingConnectionFactory routing;

	record Tenant(String id, Topology.Engine engine, String database) {

		String placeholder() {
			return this.engine.kind().placeholder();
		}
	}

	@BeforeAll
	static void setUp(Topology topology) {
		TenantRegistry.Builder registry = TenantRegistry.builder();
		for (Topology.Engine engine : List.of(topology.postgres(), topology.mariadb())) {
			for (int i = 0; i < TENANTS_PER_ENGINE; i++) {
				String id = "iso-" + engine.tag() + "-" + i;
				String database = "sb_iso_" + engine.tag() + "_" + i;
				engine.createDatabase(database);
				ReplicatedDataSource dataSource = Fixtures.dataSource("ds-" + id, engine, database, 4, engine.replica());
				String ddl = engine.kind() == Topology.Kind.POSTGRESQL
						? "CREATE TABLE IF NOT EXISTS items (id BIGSERIAL PRIMARY KEY, tenant VARCHAR(64) NOT NULL)"
						: "CREATE TABLE IF NOT EXISTS items (id BIGINT AUTO_INCREMENT PRIMARY KEY, tenant VARCHAR(64) NOT NULL)";
				Sql.execute(ConnectionFactories.get(engine.url(engine.primary(), database)), ddl);
				registry.dataSource(dataSource).tenant(id, dataSource.name());
				dataSources.add(dataSource);
				tenants.add(new Tenant(id, engine, database));
			}
		}
		routing = new RoutingConnectionFactory(registry.build());
		// Seed every tenant so that reads have rows to check from the start.
		Flux.fromIterable(tenants).concatMap(tenant -> insert(tenant).contextWrite(RoutingContext.forTenant(tenant.id())))
				.blockLast(Duration.ofSeconds(30));
	}

	@AfterAll
	static void tearDown() {
		routing.close();
	}

	@Test
	void concurrentPipelinesNeverSeeAnotherTenantsRows() {
		AtomicLong reads = new AtomicLong();
		AtomicLong rowsRead = new AtomicLong();
		AtomicLong crossTenantRows = new AtomicLong();
		AtomicLongArray writes = new AtomicLongArray(tenants.size());

		Flux.range(0, OPERATIONS)
				.flatMap(i -> {
					ThreadLocalRandom random = ThreadLocalRandom.current();
					int index = random.nextInt(tenants.size());
					Tenant tenant = tenants.get(index);
					// An outer context for another tenant must never win over the inner one.
					Tenant decoy = tenants.get((index + 1 + random.nextInt(tenants.size() - 1)) % tenants.size());
					Mono<?> operation;
					if (random.nextInt(10) < 3) {
						operation = insert(tenant).doOnSuccess(count -> writes.incrementAndGet(index));
					}
					else {
						operation = read(tenant).doOnNext(owners -> {
							reads.incrementAndGet();
							rowsRead.addAndGet(owners.size());
							crossTenantRows.addAndGet(owners.stream().filter(owner -> !owner.equals(tenant.id())).count());
						});
					}
					return operation
							.contextWrite(RoutingContext.forTenant(tenant.id()))
							.contextWrite(RoutingContext.forTenant(decoy.id()))
							.subscribeOn(random.nextBoolean() ? Schedulers.parallel() : Schedulers.boundedElastic());
				}, CONCURRENCY)
				.blockLast(Duration.ofMinutes(3));

		long writesTotal = 0;
		long misplaced = 0;
		for (int i = 0; i < tenants.size(); i++) {
			Tenant tenant = tenants.get(i);
			writesTotal += writes.get(i);
			misplaced += ((Number) Sql.query(ConnectionFactories.get(tenant.engine().url(tenant.engine().primary(), tenant.database())),
					"SELECT count(*) AS n FROM items WHERE tenant <> " + tenant.placeholder(), tenant.id())
					.get(0).get("n")).longValue();
		}
		System.out.printf("isolation: %d tenants, %d operations (%d reads of %d rows, %d writes), %d cross-tenant rows read, %d rows written to another tenant's database%n",
				tenants.size(), OPERATIONS, reads.get(), rowsRead.get(), writesTotal, crossTenantRows.get(), misplaced);

		assertThat(reads.get() + writesTotal).isEqualTo(OPERATIONS);
		assertThat(rowsRead.get()).isPositive();
		assertThat(crossTenantRows.get()).isZero();
		assertThat(misplaced).isZero();
		assertThat(dataSources.stream().mapToInt(Fixtures::acquired).sum()).isZero();
	}

	static Mono<Long> insert(Tenant tenant) {
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement("INSERT INTO items (tenant) VALUES (" + tenant.placeholder() + ")")
						.bind(0, tenant.id()).execute()).concatMap(r -> r.getRowsUpdated()),
				Connection::close)
				.next()
				.contextWrite(RoutingContext.intent(AccessIntent.WRITE));
	}

	static Mono<List<String>> read(Tenant tenant) {
		return Flux.usingWhen(routing.create(),
				connection -> Flux.from(connection.createStatement("SELECT tenant FROM items ORDER BY id DESC LIMIT 5").execute())
						.concatMap(r -> r.map(row -> row.get(0, String.class))),
				Connection::close)
				.collectList()
				.contextWrite(RoutingContext.intent(AccessIntent.READ));
	}
}
