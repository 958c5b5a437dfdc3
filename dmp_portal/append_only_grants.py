"""The append-only audit tables keep INSERT and SELECT only for every role but their owner.

Applied by access_control's migration 0007 and again by ``manage.py restore`` right after
``pg_restore``: a restored database's tables are created anew, and the default privileges of
the roles script grant the application role UPDATE and DELETE on every new table; the dump's own
grants only add to them. Plain SQL naming no app: it finds the tables by their append-only
trigger.
"""

# Production runs as an application role that owns no table (README, Database roles); the
# owner role that runs the migrations grants it SELECT, INSERT, UPDATE, DELETE on every table it
# creates (ALTER DEFAULT PRIVILEGES, deploy/postgres/roles.sql). On the tables an append-only
# trigger guards (the audit events, checkpoints and checkpoint heads), every role but the owner
# keeps INSERT and SELECT only: the trigger already refuses UPDATE and DELETE, and the missing
# privilege refuses them again should the trigger ever be gone. Whatever the role names, and a
# no-op where no other role holds a grant (development, the test suite); deploy/postgres/roles.sql
# applies the same rule to the tables of an existing database, and `manage.py restore` after
# pg_restore.
REVOKE_CHANGES_SQL = """
DO $$
DECLARE
    found record;
BEGIN
    FOR found IN
        SELECT DISTINCT c.oid::regclass AS relation, a.grantee
        FROM pg_trigger t
        JOIN pg_proc p ON p.oid = t.tgfoid
        JOIN pg_class c ON c.oid = t.tgrelid
        CROSS JOIN LATERAL aclexplode(c.relacl) a
        WHERE NOT t.tgisinternal
          AND p.proname LIKE 'access\\_control\\_%\\_append\\_only'
          AND a.grantee <> c.relowner
          AND a.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE')
    LOOP
        EXECUTE format(
            'REVOKE UPDATE, DELETE, TRUNCATE ON %s FROM %s',
            found.relation,
            CASE WHEN found.grantee = 0 THEN 'PUBLIC'
                ELSE quote_ident(pg_get_userbyid(found.grantee)) END
        );
    END LOOP;
END;
$$;
"""
