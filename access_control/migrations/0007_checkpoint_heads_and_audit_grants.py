# access_control 0007: the checkpoint heads and the audit tables' grants (depends on 0006).

from django.db import migrations, models

# Production runs as an application role that owns no table (README, Database roles); the
# owner role that runs the migrations grants it SELECT, INSERT, UPDATE, DELETE on every table it
# creates (ALTER DEFAULT PRIVILEGES, deploy/postgres/roles.sql). On the tables an append-only
# trigger guards (the audit events, checkpoints and checkpoint heads), every role but the owner
# keeps INSERT and SELECT only: the trigger already refuses UPDATE and DELETE, and the missing
# privilege refuses them again should the trigger ever be gone. Whatever the role names, and a
# no-op where no other role holds a grant (development, the test suite); deploy/postgres/roles.sql
# applies the same rule to the tables of an existing database.
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
            CASE WHEN found.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(found.grantee)) END
        );
    END LOOP;
END;
$$;
"""


def revoke_changes_on_append_only_tables(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REVOKE_CHANGES_SQL, params=None)  # no parameters: '%' is literal


class Migration(migrations.Migration):

    dependencies = [
        ('access_control', '0006_staff_registry_actions'),
    ]

    operations = [
        # The checkpoint writer now compares each chain's last event with the latest head the
        # checkpoints recorded for it (access_control.checkpoints): the cursor table, which the
        # application's role could rewrite to steer a chain out of every checkpoint, is gone.
        migrations.DeleteModel(
            name='AuditCheckpointCursor',
        ),
        migrations.AddIndex(
            model_name='auditcheckpointhead',
            index=models.Index(fields=['chain_id', 'checkpoint'], include=('sequence',), name='auditcheckpointhead_chain'),
        ),
        migrations.RunPython(revoke_changes_on_append_only_tables, migrations.RunPython.noop),
    ]
