"""Builders and probes for the audit trail: events written as a view writes them, a chain read
back in order, verify_audit's answer, and tampering as someone with database access would."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, connections, transaction

from audit.models import Action, AuditEvent, Outcome
from audit.trail import record_event


def record(patient, actor=None, **fields) -> AuditEvent:
    """One committed-with-its-read event, as a view would write it."""
    fields.setdefault("action", Action.VIEW)
    fields.setdefault("outcome", Outcome.ALLOWED)
    with transaction.atomic():
        return record_event(
            actor=actor if actor is not None else patient, patient=patient, **fields
        )


def chain_of(patient) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(chain__key=f"patient:{patient.pk}").order_by("sequence"))


def verify() -> tuple[int, str, str]:
    """verify_audit's exit code, stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@contextmanager
def bypassing_the_trigger() -> Iterator:
    """Tamper as someone with database access would: replica mode skips ordinary triggers."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        yield cursor
        cursor.execute("SET LOCAL session_replication_role = origin")


def with_own_connection(function: Callable, *args) -> None:
    """Run ``function`` in a thread's own database connection, closed when it ends."""
    try:
        function(*args)
    finally:
        connections.close_all()
