"""Builders for coming of age (issue 17, item 5): a child's record as a representative's use of
the child's creation code leaves it (item 2: an account with no usable password, linked to
the child's registry entry, and live legal representations)."""

from __future__ import annotations

import itertools
from datetime import date

from access_control.models import LegalRepresentation
from accounts.models import User, UserKind
from enrollment.models import Beneficiary
from enrollment.services.representatives import representation_until
from tests.enrollment.factories import make_beneficiary

_identifiers = itertools.count(4_000_000_000)


def make_child(born: date, first_name: str = "Inès") -> tuple[Beneficiary, User]:
    """A child of the registry and the account of their record, with no usable password."""
    person = make_beneficiary(born=born, first_name=first_name, last_name="Martin")
    child = User.objects.create_user(
        str(next(_identifiers)), None, kind=UserKind.PATIENT, data_key=person.data_key
    )
    Beneficiary.objects.filter(pk=person.pk).update(patient=child)
    person.refresh_from_db()
    return person, child


def represent(child: User, *representatives: User) -> None:
    for representative in representatives:
        LegalRepresentation.objects.create(
            minor=child,
            representative=representative,
            until=representation_until(Beneficiary.objects.get(patient=child)),
        )
