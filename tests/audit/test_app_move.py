"""The audit trail moved from access_control to an app of its own (audit 0001, access_control
0011): only Django's idea of where the models live moved. The tables keep their names, and so
their triggers and grants; the content types change app, keeping their ids, so that permissions
and admin log entries still point at the same rows."""

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection

from audit.models import AuditChain, AuditCheckpoint, AuditCheckpointHead, AuditEvent

pytestmark = pytest.mark.django_db

migration = importlib.import_module("audit.migrations.0001_initial")
MOVED = (AuditChain, AuditEvent, AuditCheckpoint, AuditCheckpointHead)


def ids_by_label(label: str) -> dict[str, int]:
    rows = ContentType.objects.filter(app_label=label, model__in=migration.MOVED_MODELS)
    return dict(rows.values_list("model", "pk"))


def test_the_tables_keep_the_names_their_triggers_and_grants_use():
    names = [model._meta.db_table for model in MOVED]
    assert names == [
        "access_control_auditchain",
        "access_control_auditevent",
        "access_control_auditcheckpoint",
        "access_control_auditcheckpointhead",
    ]
    assert set(names) <= set(connection.introspection.table_names())
    assert {model._meta.app_label for model in MOVED} == {"audit"}


def test_the_content_types_change_app_both_ways_keeping_their_ids():
    before = ids_by_label("audit")
    assert sorted(before) == sorted(migration.MOVED_MODELS)
    permission = Permission.objects.get(codename="view_auditevent")
    editor = SimpleNamespace(connection=connection)

    migration.restore_content_types(apps, editor)
    assert ids_by_label("audit") == {}
    assert ids_by_label("access_control") == before

    migration.relabel_content_types(apps, editor)
    assert ids_by_label("access_control") == {}
    assert ids_by_label("audit") == before
    permission.refresh_from_db()
    assert permission.content_type_id == before["auditevent"]
    assert ContentType.objects.get_for_model(AuditEvent).pk == before["auditevent"]


def test_a_content_type_already_in_the_audit_app_is_left_alone():
    """A stale access_control row beside the audit one (a database migrated back and forth by
    hand): the relabelling skips it rather than failing on the unique (app_label, model)."""
    before = ids_by_label("audit")
    stale = ContentType.objects.create(app_label="access_control", model="auditevent")

    migration.relabel_content_types(apps, SimpleNamespace(connection=connection))

    assert ids_by_label("audit") == before
    stale.refresh_from_db()
    assert stale.app_label == "access_control"
