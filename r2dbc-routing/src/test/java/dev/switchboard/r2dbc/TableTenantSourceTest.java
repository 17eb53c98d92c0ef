package dev.switchboard.r2dbc;

import dev.switchboard.api.Engine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatIllegalArgumentException;

/**
 * The table name and DDL of {@link TableTenantSource}, without a server: the pools are never asked
 * for a connection.
 */
class TableTenantSourceTest {

	final ReplicatedDataSource catalog = ReplicatedDataSource.builder("catalog")
			.primary("r2dbc:postgresql://postgres@127.0.0.1:1/nowhere")
			.pool(pool -> pool.initialSize(0))
			.build();

	@AfterEach
	void dispose() {
		this.catalog.dispose();
	}

	@ParameterizedTest
	@ValueSource(strings = { "tenants", "_t", "Tenants_2", "app.tenants", "switchboard.tenant_catalog" })
	void aPlainOrSchemaQualifiedIdentifierIsATableName(String table) {
		TableTenantSource source = TableTenantSource.of(this.catalog, table);
		assertThat(source.table()).isEqualTo(table);
	}

	@ParameterizedTest
	@ValueSource(strings = { "", " ", "1tenants", "tenants;", "tenants; DROP TABLE x", "t--", "\"tenants\"",
			"a.b.c", "app.", ".t", "tenants t", "tenant-s", "ténants", "t\u0000" })
	void anythingElseIsRefusedAtConstruction(String table) {
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.of(this.catalog, table))
				.withMessageContaining("table must be an unquoted SQL identifier");
	}

	@Test
	void aNameLongerThanAChannelMayBeIsRefused() {
		String longest = "t".repeat(63);
		assertThat(TableTenantSource.of(this.catalog, longest).channel()).isEqualTo(longest);
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.of(this.catalog, longest + "t"))
				.withMessageContaining("at most 63 characters");
	}

	@Test
	void nullsAreRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.of(this.catalog, null));
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.of(null, "tenants"));
	}

	@Test
	void theChannelIsTheTableInLowerCase() {
		assertThat(TableTenantSource.of(this.catalog, "App.Tenants").channel()).isEqualTo("app.tenants");
	}

	@Test
	void thePostgresDdlNotifiesTheTablesChannel() {
		String ddl = TableTenantSource.ddl(Engine.POSTGRESQL, "App.Tenants");
		assertThat(ddl).contains("CREATE TABLE IF NOT EXISTS app.tenants (")
				.contains("FUNCTION app.tenants_notify()")
				.contains("pg_notify('app.tenants', TG_OP)")
				.contains("CREATE TRIGGER switchboard_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON app.tenants")
				.doesNotContain("switchboard_tenants");
	}

	@Test
	void theMariaDbDdlKeepsTheTablesCase() {
		String ddl = TableTenantSource.ddl(Engine.MARIADB, "Tenants");
		assertThat(ddl).contains("CREATE TABLE IF NOT EXISTS Tenants (").doesNotContain("TRIGGER")
				.doesNotContain("switchboard_tenants");
		assertThat(TableTenantSource.ddl(Engine.MYSQL, "Tenants")).isEqualTo(ddl);
	}

	@Test
	void anEngineWithoutDdlIsRefused() {
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.ddl(Engine.H2, "tenants"))
				.withMessageContaining("H2");
		assertThatIllegalArgumentException().isThrownBy(() -> TableTenantSource.ddl(Engine.POSTGRESQL, "x;y"));
	}
}
