# The partial index read by the beat that queues lost access requests again
# (access_control.access_requests.undelivered_access_requests); and the open access requests of
# blocked practitioners declined, as a block now does when it is made (services.block_practitioner):
# left open, accepting them would be refused.
#
# Built CONCURRENTLY on PostgreSQL: a plain CREATE INDEX holds a lock that blocks every insert
# into the audit trail (every audited read of the portal) for as long as the whole table is
# read. Hence atomic = False. Should the build fail half-way, PostgreSQL leaves an invalid index:
# drop it (DROP INDEX CONCURRENTLY auditevent_allowed_request) and migrate again. Other
# databases (SQLite in development) build it the ordinary way.

from django.conf import settings
from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.utils import timezone


def decline_requests_beside_blocks(apps, schema_editor):
    access_request = apps.get_model("access_control", "AccessRequest")
    block = apps.get_model("access_control", "Block")
    blocked = block.objects.filter(
        patient_id=OuterRef("patient_id"),
        practitioner_id=OuterRef("practitioner_id"),
        lifted_at=None,
    )
    access_request.objects.filter(Exists(blocked), decided_at=None).update(
        decided_at=timezone.now(), accepted=False
    )


class AddIndexConcurrentlyOnPostgreSQL(migrations.AddIndex):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            concurrently = schema_editor.connection.vendor == "postgresql"
            options = {"concurrently": True} if concurrently else {}
            schema_editor.add_index(model, self.index, **options)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            concurrently = schema_editor.connection.vendor == "postgresql"
            options = {"concurrently": True} if concurrently else {}
            schema_editor.remove_index(model, self.index, **options)


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("access_control", "0008_mark_returned_action"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("action", "request-access"), ("outcome", "allowed")),
                fields=["occurred_at"],
                name="auditevent_allowed_request",
            ),
        ),
        migrations.RunPython(decline_requests_beside_blocks, migrations.RunPython.noop),
    ]
