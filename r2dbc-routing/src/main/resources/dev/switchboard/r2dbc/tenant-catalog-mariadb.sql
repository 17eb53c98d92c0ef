-- The tenant catalog of Switchboard's TableTenantSource, on MariaDB (and MySQL).
--
-- One row per tenant: its id, the name of the datasource it lives on, and its state ('active' or
-- 'offboarded'). MariaDB has no change notification: a directory reads the whole table every
-- refresh interval, so a row committed is routable within that interval.
--
-- TableTenantSource.ddl(Engine.MARIADB, "my_table") returns this script for another table name
-- (every 'switchboard_tenants' below replaced).

CREATE TABLE IF NOT EXISTS switchboard_tenants (
	tenant_id  VARCHAR(64) NOT NULL PRIMARY KEY,
	datasource VARCHAR(64) NOT NULL,
	state      VARCHAR(16) NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'offboarded'))
);
