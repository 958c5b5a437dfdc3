-- The portal's two database roles (README, Database roles). Run by psql as a superuser, in the
-- portal's database, through initdb-roles.sh (first start of the postgres container, or by hand
-- on an existing database: every statement can run again).
--
--   owner: owns the schema and every table, runs `manage.py migrate` (service migrate), nothing
--          else. Only the owner (or a superuser) can ALTER a table, drop or disable its triggers,
--          truncate it.
--   app:   what web, worker and beat connect as. Not a superuser, owns nothing, cannot create
--          anything; SELECT, INSERT, UPDATE, DELETE on the tables, but INSERT and SELECT only on
--          the append-only audit tables (events, checkpoints, checkpoint heads).
--
-- Variables (psql -v): app_url_file and owner_url_file, the files holding the two DATABASE_URLs
-- (secrets database_url and database_migrate_url); role names and passwords are read from them,
-- so the roles always match what the services connect with.

\set ON_ERROR_STOP on

\set app_url `cat :'app_url_file'`
\set owner_url `cat :'owner_url_file'`

-- user and password of postgres://user:password@host... Only URL-safe characters (as the
-- secrets' README generates them), so that no percent-decoding can make them differ.
SELECT coalesce(a.part[1], '') AS app, coalesce(a.part[2], '') AS app_password,
       coalesce(o.part[1], '') AS owner, coalesce(o.part[2], '') AS owner_password
FROM (SELECT '^postgres(?:ql)?://([a-z_][a-z0-9_]*):([A-Za-z0-9._~-]{16,})@' AS pattern) AS url,
     regexp_match(:'app_url', pattern) AS a(part),
     regexp_match(:'owner_url', pattern) AS o(part)
\gset

SELECT format(
    'DO $refuse$ BEGIN RAISE EXCEPTION %L; END $refuse$',
    'database_url and database_migrate_url must be postgres://<role>:<password>@..., with '
    'two different roles (lower-case letters, digits, _) and passwords of at least 16 '
    'characters among A-Z a-z 0-9 . _ ~ - (see secrets/README.md)'
)
WHERE :'app' = '' OR :'owner' = '' OR :'app' = :'owner'
   OR :'app_password' = '' OR :'owner_password' = ''
\gexec

-- Roles: created if missing, their attributes and passwords set every time.
SELECT format('CREATE ROLE %I', name) FROM (VALUES (:'owner'), (:'app')) AS wanted(name)
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name)
\gexec
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'owner_password';
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS
    PASSWORD :'app_password';

-- The schema: the owner creates in it, the application only uses it (PostgreSQL 15 no longer
-- lets PUBLIC create in it; older versions did).
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO :"owner";
GRANT USAGE ON SCHEMA public TO :"app";
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), :'owner', :'app')
\gexec

-- Every table and sequence the owner creates (every migration) is usable by the application.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO :"app";

-- An existing database (tables created by a superuser before these roles existed): the owner
-- takes the tables (their sequences follow) and functions over, the application gets the same
-- grants. Nothing to do on a new, empty database.
SELECT format('ALTER TABLE public.%I OWNER TO %I', tablename, :'owner')
FROM pg_tables WHERE schemaname = 'public' AND tableowner <> :'owner'
\gexec
SELECT format('ALTER FUNCTION %s OWNER TO %I', p.oid::regprocedure, :'owner')
FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> :'owner'
\gexec
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO :"app";

-- The append-only audit tables (those an access_control_*_append_only trigger guards): INSERT
-- and SELECT only. The migration that creates them does the same (access_control 0007).
SELECT DISTINCT format('REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %I', c.oid::regclass, :'app')
FROM pg_trigger t
JOIN pg_proc p ON p.oid = t.tgfoid
JOIN pg_class c ON c.oid = t.tgrelid
WHERE NOT t.tgisinternal AND p.proname LIKE 'access\_control\_%\_append\_only'
\gexec
