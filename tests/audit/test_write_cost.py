"""What one audit write costs the database: its round trips (issue 20, item 3)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext

from audit import trail
from audit.models import Action, AuditChain, AuditEvent, Outcome
from audit.trail import compute_mac, record_event
from tests.accounts.factories import UserFactory
from tests.audit.factories import chain_of, record, verify


@pytest.mark.django_db
def test_an_event_on_an_existing_chain_costs_two_statements():
    patient = UserFactory()
    record(patient)  # the chain exists: its creation is not what is counted
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        event = record_event(
            actor=patient, patient=patient, action=Action.VIEW, outcome=Outcome.ALLOWED
        )
    statements = [q["sql"] for q in queries.captured_queries]
    # The head read under its lock (its MAC seals the new event), then the event and the new
    # head together: no third round trip.
    assert len(statements) == 2, statements
    assert "FOR UPDATE" in statements[0]
    assert statements[1].lstrip().startswith("WITH head AS (")
    assert event.pk is not None and [e.sequence for e in chain_of(patient)] == [1, 2]
    assert AuditChain.objects.get().last_mac == event.mac == AuditEvent.objects.get(pk=event.pk).mac
    assert verify()[0] == 0


@pytest.mark.django_db
def test_a_written_event_cannot_be_saved_again():
    patient = UserFactory()
    event = record(patient)
    with pytest.raises(TypeError):
        event.save()


@pytest.mark.django_db
def test_a_head_that_moved_under_the_lock_writes_nothing():
    patient = UserFactory()
    first = record(patient)
    chain = AuditChain.objects.get()
    stale = AuditEvent(
        chain=chain,
        sequence=1,  # the head is at 1 already: this writer's view of it is stale
        occurred_at=first.occurred_at,
        actor_role=first.actor_role,
        patient=patient,
        action=Action.VIEW,
        outcome=Outcome.ALLOWED,
        previous_mac=chain.last_mac,
    )
    stale.mac = compute_mac(stale, chain.key)
    chain.last_sequence = 0
    with pytest.raises(DatabaseError, match="moved while locked"), transaction.atomic():
        trail._append(stale, chain)
    assert [e.sequence for e in chain_of(patient)] == [1]
    assert AuditChain.objects.get().last_sequence == 1
    assert verify()[0] == 0
