# access_control 0007: the checkpoint heads and the audit tables' grants (depends on 0006).

from django.db import migrations, models

# The rule and its SQL live in dmp_portal.append_only_grants: `manage.py restore` applies them
# again after pg_restore (a restored database gets its grants from the default privileges).
from dmp_portal.append_only_grants import REVOKE_CHANGES_SQL


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
