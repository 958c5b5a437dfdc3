# audit 0001: the audit trail's models move here from access_control, state only.
#
# The tables stay where access_control's migrations created them, under the same names
# (db_table), with their triggers (access_control 0001 and 0005) and grants (0007): no SQL runs
# here. This migration only tells Django that the models now belong to the audit app;
# access_control 0011, which depends on this one, forgets them there. Then the content types are
# relabelled, so that permissions and admin log entries keep their rows and ids.

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED_MODELS = ("auditchain", "auditevent", "auditcheckpoint", "auditcheckpointhead")


def _relabel(apps, schema_editor, old_label, new_label):
    """Move the content types of the moved models from one app label to the other, where the
    target does not exist yet (a fresh database has none: post_migrate creates them later)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    rows = content_type.objects.db_manager(schema_editor.connection.alias)
    for model in MOVED_MODELS:
        if not rows.filter(app_label=new_label, model=model).exists():
            rows.filter(app_label=old_label, model=model).update(app_label=new_label)
    content_type.objects.clear_cache()


def relabel_content_types(apps, schema_editor):
    _relabel(apps, schema_editor, "access_control", "audit")


def restore_content_types(apps, schema_editor):
    _relabel(apps, schema_editor, "audit", "access_control")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("contenttypes", "0002_remove_content_type_name"),
        # The last migration that changed these tables, in the app that created them.
        ("access_control", "0010_review_emergency_action"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='AuditChain',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('key', models.CharField(max_length=64, unique=True, verbose_name='chain')),
                        ('last_sequence', models.BigIntegerField(default=0)),
                        ('last_mac', models.CharField(default='0000000000000000000000000000000000000000000000000000000000000000', max_length=64)),
                        ('patient', models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'audit chain',
                        'verbose_name_plural': 'audit chains',
                        'db_table': 'access_control_auditchain',
                    },
                ),
                migrations.CreateModel(
                    name='AuditCheckpoint',
                    fields=[
                        ('number', models.BigIntegerField(primary_key=True, serialize=False)),
                        ('created_at', models.DateTimeField()),
                        ('format_version', models.PositiveSmallIntegerField()),
                        ('key_id', models.CharField(max_length=16)),
                        ('chain_count', models.BigIntegerField()),
                        ('head_count', models.BigIntegerField()),
                        ('heads_digest', models.CharField(max_length=64)),
                        ('previous_digest', models.CharField(max_length=64)),
                        ('digest', models.CharField(max_length=64)),
                        ('signature', models.BinaryField(max_length=64)),
                    ],
                    options={
                        'verbose_name': 'audit checkpoint',
                        'verbose_name_plural': 'audit checkpoints',
                        'db_table': 'access_control_auditcheckpoint',
                        'constraints': [models.CheckConstraint(condition=models.Q(('number__gte', 1)), name='auditcheckpoint_number_from_1')],
                    },
                ),
                migrations.CreateModel(
                    name='AuditCheckpointHead',
                    fields=[
                        ('pk', models.CompositePrimaryKey('checkpoint', 'chain_id', blank=True, editable=False, primary_key=True, serialize=False)),
                        ('chain_id', models.BigIntegerField()),
                        ('sequence', models.BigIntegerField()),
                        ('mac', models.BinaryField(max_length=32)),
                        ('checkpoint', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='audit.auditcheckpoint')),
                    ],
                    options={
                        'verbose_name': 'audit checkpoint head',
                        'verbose_name_plural': 'audit checkpoint heads',
                        'db_table': 'access_control_auditcheckpointhead',
                    },
                ),
                migrations.CreateModel(
                    name='AuditEvent',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('sequence', models.BigIntegerField()),
                        ('occurred_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='time')),
                        ('actor_role', models.CharField(max_length=16, verbose_name='actor role')),
                        ('actor_rpps', models.CharField(blank=True, max_length=11, verbose_name='RPPS number')),
                        ('document_uid', models.UUIDField(blank=True, null=True, verbose_name='document')),
                        ('action', models.CharField(choices=[('list', 'List documents'), ('view', 'View a document'), ('download', 'Download a document'), ('export', 'Export the record'), ('upload', 'Upload a document'), ('hide', 'Hide a document'), ('show', 'Show a document again'), ('delete', 'Delete a document'), ('lookup', 'Look up a patient'), ('grant', 'Grant access'), ('revoke', 'Revoke access'), ('block', 'Block a practitioner'), ('unblock', 'Unblock a practitioner'), ('emergency', 'Declare an emergency access'), ('view-history', 'View the access history'), ('login', 'Log in'), ('request-access', 'Request access'), ('view-identity', 'View the identity'), ('propose-change', 'Propose a change to the identity or address'), ('confirm-change', 'Confirm a change to the identity or address'), ('export-letter', 'Export a letter for posting'), ('mark-returned', 'Mark a letter as returned undelivered'), ('review-emergency', 'Review an emergency access')], max_length=32, verbose_name='action')),
                        ('outcome', models.CharField(choices=[('allowed', 'Allowed'), ('refused', 'Refused')], max_length=16, verbose_name='outcome')),
                        ('mode', models.CharField(choices=[('normal', 'Normal'), ('emergency', 'Emergency')], default='normal', max_length=16, verbose_name='mode')),
                        ('reason', models.CharField(blank=True, max_length=64, verbose_name='reason')),
                        ('client_address', models.GenericIPAddressField(blank=True, null=True, verbose_name='client address')),
                        ('previous_mac', models.CharField(max_length=64)),
                        ('mac', models.CharField(max_length=64)),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('chain', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='events', to='audit.auditchain')),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'verbose_name': 'audit event',
                        'verbose_name_plural': 'audit events',
                        'db_table': 'access_control_auditevent',
                    },
                ),
                migrations.AddConstraint(
                    model_name='auditchain',
                    constraint=models.CheckConstraint(condition=models.Q(('last_sequence__gte', 0)), name='auditchain_sequence_not_negative'),
                ),
                migrations.AddIndex(
                    model_name='auditcheckpointhead',
                    index=models.Index(fields=['chain_id', 'checkpoint'], include=('sequence',), name='auditcheckpointhead_chain'),
                ),
                migrations.AddIndex(
                    model_name='auditevent',
                    index=models.Index(fields=['patient', '-occurred_at'], name='auditevent_patient_time'),
                ),
                migrations.AddIndex(
                    model_name='auditevent',
                    index=models.Index(fields=['occurred_at'], name='auditevent_time'),
                ),
                migrations.AddIndex(
                    model_name='auditevent',
                    index=models.Index(condition=models.Q(('action', 'request-access'), ('outcome', 'allowed')), fields=['occurred_at'], name='auditevent_allowed_request'),
                ),
                migrations.AddConstraint(
                    model_name='auditevent',
                    constraint=models.UniqueConstraint(fields=('chain', 'sequence'), name='auditevent_chain_sequence'),
                ),
                migrations.AddConstraint(
                    model_name='auditevent',
                    constraint=models.CheckConstraint(condition=models.Q(('sequence__gte', 1)), name='auditevent_sequence_from_1'),
                ),
                migrations.AddConstraint(
                    model_name='auditevent',
                    constraint=models.CheckConstraint(condition=models.Q(('outcome__in', ['allowed', 'refused'])), name='auditevent_outcome_known'),
                ),
                migrations.AddConstraint(
                    model_name='auditevent',
                    constraint=models.CheckConstraint(condition=models.Q(('mode__in', ['normal', 'emergency'])), name='auditevent_mode_known'),
                ),
            ],
        ),
        migrations.RunPython(relabel_content_types, restore_content_types),
    ]
