"""A family for the tests of a child's record (issue 17, item 2): two parents of the registry,
each with their own patient account and a client past both factors, a child of nine linked to
both by the registry, and the letters that a request for the child's number sends."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.test import Client
from django.utils import timezone

from accounts.models import User
from enrollment.models import Beneficiary, RegistryRepresentative, RepresentativeLetter
from enrollment.services.registry import REPRESENTATIVE_LETTER
from letters.models import Letter
from tests.enrollment.factories import make_beneficiary
from tests.letters.reading import code_from_letter
from tests.records.factories import patient_with_login


def years_ago(years: int, days: int = 0) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


@dataclass
class Parent:
    row: Beneficiary
    user: User
    client: Client


def parent(first_name: str, last_name: str = "Martin") -> Parent:
    row = make_beneficiary(first_name=first_name, last_name=last_name, born=date(1985, 5, 14))
    user, client = patient_with_login()
    Beneficiary.objects.filter(pk=row.pk).update(patient=user)
    row.refresh_from_db()
    return Parent(row, user, client)


def child_of(*parents: Parent, born: date | None = None) -> Beneficiary:
    child = make_beneficiary(first_name="Zoé", last_name="Martin", born=born or years_ago(9))
    for one in parents:
        RegistryRepresentative.objects.create(child=child, representative=one.row)
    return child


def ask_for(person: Beneficiary, capture, address: str = "192.0.2.10"):
    """Type the number twice on /enrollment/, the tasks run as the worker would."""
    with capture(execute=True):
        return Client(REMOTE_ADDR=address).post(
            "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
        )


def letters_for(child: Beneficiary) -> dict[int, Letter]:
    """The representatives' letters for this child, by representative's registry row id."""
    found = {}
    for letter in Letter.objects.filter(kind=REPRESENTATIVE_LETTER, subject_uid=child.uid):
        link = RepresentativeLetter.objects.get(letter=letter)
        found[link.representative_id] = letter
    return found


def code_for(child: Beneficiary, one: Parent) -> str:
    return code_from_letter(letters_for(child)[one.row.pk])
