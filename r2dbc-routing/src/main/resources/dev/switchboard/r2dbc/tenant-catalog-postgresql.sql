-- The tenant catalog of Switchboard's TableTenantSource, on PostgreSQL.
--
-- One row per tenant: its id, the name of the datasource it lives on, and its state ('active' or
-- 'offboarded'). A directory reads the whole table every refresh interval; the trigger below also
-- wakes it with NOTIFY on the channel named after the table (here 'switchboard_tenants'), so that
-- a row committed is routable within a second. The trigger fires once per statement: a load of
-- 10,000 rows wakes a directory once.
--
-- TableTenantSource.ddl(Engine.POSTGRESQL, "my_schema.my_table") returns this script for another
-- table name (every 'switchboard_tenants' below replaced); the channel is then 'my_schema.my_table'.

CREATE TABLE IF NOT EXISTS switchboard_tenants (
	tenant_id  VARCHAR(64) PRIMARY KEY,
	datasource VARCHAR(64) NOT NULL,
	state      VARCHAR(16) NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'offboarded'))
);

CREATE OR REPLACE FUNCTION switchboard_tenants_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('switchboard_tenants', TG_OP);
	RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS switchboard_notify ON switchboard_tenants;

CREATE TRIGGER switchboard_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON switchboard_tenants
	FOR EACH STATEMENT EXECUTE FUNCTION switchboard_tenants_notify();
