package dev.switchboard.r2dbc;

import dev.switchboard.api.DataError;
import dev.switchboard.api.TenantId;
import io.r2dbc.spi.test.MockConnection;
import io.r2dbc.spi.test.MockConnectionFactory;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantRegistryTest {

	static ReplicatedDataSource dataSource(String name) {
		return ReplicatedDataSource.builder(name)
				.primary(MockConnectionFactory.builder().connection(MockConnection.empty()).build())
				.build();
	}

	@Test
	void resolvesTenantsAndListsEachDataSourceOnce() {
		ReplicatedDataSource pg = dataSource("pg-main");
		try (TenantRegistry registry = TenantRegistry.builder().dataSource(pg)
				.tenant("acme", "pg-main").tenant("initech", "pg-main").build()) {
			assertThat(registry.obtainDataSource(TenantId.of("initech"))).isSameAs(pg);
			assertThat(registry.dataSources()).containsExactly(pg);
			assertThat(registry.tenants()).containsExactly(TenantId.of("acme"), TenantId.of("initech"));
			assertThat(registry.defaultTenant()).isNull();
		}
		assertThat(pg.isDisposed()).isTrue();
	}

	@Test
	void unknownTenantIsAClassifiedError() {
		try (TenantRegistry registry = TenantRegistry.builder().dataSource(dataSource("pg-main"))
				.tenant("acme", "pg-main").build()) {
			assertThat(registry.getDataSource(TenantId.of("hooli"))).isNull();
			assertThatThrownBy(() -> registry.obtainDataSource(TenantId.of("hooli")))
					.isInstanceOfSatisfying(DataError.class, e -> assertThat(e.kind()).isEqualTo(DataError.Kind.UNKNOWN_TENANT));
		}
	}

	@Test
	void badConfigurationNamesTheProblem() {
		assertThatThrownBy(() -> TenantRegistry.builder().tenant("acme", "nowhere").build())
				.isInstanceOf(IllegalStateException.class)
				.hasMessageContaining("tenant 'acme' names datasource 'nowhere', which is not registered");
		assertThatThrownBy(() -> TenantRegistry.builder().dataSource(dataSource("pg-main")).tenant("acme", "pg-main")
				.defaultTenant("globex").build())
				.hasMessageContaining("default tenant 'globex' is not a mapped tenant");
		assertThatThrownBy(() -> TenantRegistry.builder().tenant("acme", "a").tenant("acme", "b"))
				.hasMessageContaining("tenant 'acme' is mapped twice");
		assertThatThrownBy(() -> TenantRegistry.builder().dataSource(dataSource("pg-main")).dataSource(dataSource("pg-main")))
				.hasMessageContaining("datasource name 'pg-main' is registered twice");
		assertThatThrownBy(() -> TenantRegistry.builder().tenant("bad tenant", "pg-main"))
				.isInstanceOfSatisfying(DataError.class, e -> assertThat(e.kind()).isEqualTo(DataError.Kind.INVALID_TENANT_ID));
	}
}
