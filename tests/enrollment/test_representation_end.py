"""When a legal representation ends without anyone acting (review of issue 17, finding 7): on
the 18th birthday by its own date (``until``, the eve), even if no task ran; and when the
registry's import unlinks the representative, in the import's transaction, recorded."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from access_control import policy
from access_control.decisions import CommandLineOperator
from access_control.models import LegalRepresentation, RepresentationEndReason
from audit.models import Action, AuditEvent
from enrollment.models import Beneficiary, CreationCode
from enrollment.services.majority import due_minors
from enrollment.services.registry_changes import current_values, decide_change, propose_change
from enrollment.services.representatives import (
    ENDED_BY_REGISTRY,
    link_representatives,
    majority_day,
    representation_until,
)
from tests.accounts.factories import StaffFactory
from tests.enrollment.minors_world import ask_for, child_of, code_for, parent

pytestmark = pytest.mark.django_db
BORN = date(2010, 6, 15)


def noon(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(12)))


def test_until_is_the_eve_of_the_18th_birthday():
    child = child_of(born=BORN)
    assert representation_until(child) == date(2028, 6, 14)
    assert majority_day(date(2008, 2, 29)) == date(2026, 3, 1)  # as age_on counts it


@pytest.fixture
def represented(django_capture_on_commit_callbacks):
    mother, father = parent("Claire"), parent("Marc", "Bernard")
    child = child_of(mother, father, born=BORN)
    with time_machine.travel(noon(date(2026, 11, 30)), tick=False):
        ask_for(child, django_capture_on_commit_callbacks)
        mother.client.post(
            "/enrollment/activate/", {"nir": child.nir, "creation_code": code_for(child, mother)}
        )
    child.refresh_from_db()
    assert LegalRepresentation.objects.filter(representative=mother.user).exists()
    return mother, father, child


@pytest.mark.parametrize(
    ("day", "allowed"),
    [(date(2028, 6, 13), True), (date(2028, 6, 14), True), (date(2028, 6, 15), False)],
)
def test_the_door_refuses_on_the_birthday_even_if_no_task_ran(represented, day, allowed):
    mother, _father, child = represented
    with time_machine.travel(noon(day), tick=False):
        decision = policy.decide(mother.user, child.patient, Action.LIST, acting_for=True)
        assert decision.allowed is allowed
        assert LegalRepresentation.objects.live().exists() is allowed
        if not allowed:
            assert decision.reason == "not-own-record"
    # Nothing ended it: only its date.
    assert LegalRepresentation.objects.get().ended_at is None


def test_the_first_minute_of_the_birthday_is_refused(represented):
    mother, _father, child = represented
    first_minute = timezone.make_aware(datetime.combine(date(2028, 6, 15), time(0, 0)))
    with time_machine.travel(first_minute, tick=False):
        assert not policy.decide(mother.user, child.patient, Action.LIST, acting_for=True).allowed
    with time_machine.travel(first_minute - timedelta(minutes=1), tick=False):
        assert policy.decide(mother.user, child.patient, Action.LIST, acting_for=True).allowed


def test_a_registry_unlink_ends_the_representation_at_once(represented):
    mother, father, child = represented
    father_code = CreationCode.objects.get(representative=father.row)
    with transaction.atomic():
        refused = link_representatives(
            child, [father.row.nir], CommandLineOperator("ops"), timezone.localdate()
        )
    assert refused == ""
    representation = LegalRepresentation.objects.get(representative=mother.user)
    assert representation.ended_at is not None
    assert representation.ended_reason == RepresentationEndReason.REGISTRY
    event = AuditEvent.objects.get(
        patient=child.patient, action=Action.UNLINK_REPRESENTATIVE, reason=ENDED_BY_REGISTRY
    )
    assert event.actor_id is None
    assert not policy.decide(mother.user, child.patient, Action.LIST, acting_for=True).allowed
    # The other representative's unused code still works; nothing else was touched.
    father_code.refresh_from_db()
    assert father_code.superseded_at is None


def test_a_registry_unlink_stops_the_unlinked_representatives_unused_code(
    django_capture_on_commit_callbacks,
):
    mother, father = parent("Claire"), parent("Marc", "Bernard")
    child = child_of(mother, father, born=BORN)
    with time_machine.travel(noon(date(2026, 11, 30)), tick=False):
        ask_for(child, django_capture_on_commit_callbacks)
        code = code_for(child, mother)
        with transaction.atomic():
            link_representatives(
                child, [father.row.nir], CommandLineOperator("ops"), timezone.localdate()
            )
        assert CreationCode.objects.get(representative=mother.row).superseded_at is not None
        response = mother.client.post(
            "/enrollment/activate/", {"nir": child.nir, "creation_code": code}
        )
    assert "Ce numéro et ce code ne correspondent à aucun code valide" in response.content.decode()
    assert not LegalRepresentation.objects.exists()


@pytest.mark.parametrize(
    ("corrected", "allowed", "until"),
    [
        # The registry says the child is in fact 19: the representative is refused at once, and
        # the daily coming of age (which looks for until past) finds the record.
        (date(2007, 6, 15), False, date(2025, 6, 14)),
        # Younger than thought: the representative keeps acting until the new eve.
        (date(2012, 1, 20), True, date(2030, 1, 19)),
    ],
)
def test_a_birth_date_corrected_by_the_registry_moves_the_last_day(
    represented, corrected, allowed, until
):
    mother, _father, child = represented
    values = current_values(Beneficiary.objects.select_related("data_key").get(pk=child.pk))
    values["birth_date"] = corrected.isoformat()
    change = propose_change(StaffFactory(), child.pk, values)
    decide_change(StaffFactory(), change.pk, confirm=True)
    representation = LegalRepresentation.objects.get(representative=mother.user)
    assert representation.until == until
    assert representation.ended_at is None  # ended by the daily task, with its letter
    assert policy.decide(mother.user, child.patient, Action.LIST, acting_for=True).allowed is (
        allowed
    )
    assert (child.patient_id in due_minors()) is not allowed


def test_a_birth_date_corrected_by_the_import_moves_the_last_day(represented, tmp_path):
    mother, _father, child = represented
    path = tmp_path / "beneficiaries.csv"
    path.write_text(
        "nir,last_name,first_name,birth_date,delivery_point,building,street,locality,postcode,"
        f"city,country,regime\n{child.nir},Martin,Zoé,2010-06-02,,,3 rue des Lilas,,75015,Paris,,"
        "general\n",
        encoding="utf-8",
    )
    call_command("import_beneficiaries", str(path), stdout=StringIO())
    assert LegalRepresentation.objects.get(representative=mother.user).until == date(2028, 6, 1)
    with time_machine.travel(noon(date(2028, 6, 5)), tick=False):  # the old eve not yet come
        assert not policy.decide(mother.user, child.patient, Action.LIST, acting_for=True).allowed
