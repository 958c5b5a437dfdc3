# access_control 0011: the audit trail's models now belong to the audit app (audit 0001), state
# only. Their tables, triggers and grants stay exactly as migrations 0001 to 0010 left them.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('access_control', '0010_review_emergency_action'),
        ('audit', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                # Those that point to the others first.
                migrations.DeleteModel(name='AuditCheckpointHead'),
                migrations.DeleteModel(name='AuditEvent'),
                migrations.DeleteModel(name='AuditCheckpoint'),
                migrations.DeleteModel(name='AuditChain'),
            ],
        ),
    ]
