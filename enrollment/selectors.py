"""The enrolment app's reads (its services write). Staff reading the registry: every look-up
by NIR and every identity shown passes the door.

The registry admin lists people without decrypting anyone (no name, no NIR, not even masked);
only finding a person by NIR (``lookup``) and opening one person (``view_identity``) read an
identity, and each is recorded on that person's chain, naming the staff member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction

from access_control.policy import authorize_staff
from audit.models import Action
from enrollment.models import Beneficiary, RegistryChange
from enrollment.services.registry import nir_index
from enrollment.services.registry_changes import StaffRefused

if TYPE_CHECKING:
    from accounts.models import User


def _on_chain(
    staff: User, action: Action, beneficiary: Beneficiary | None, client_address: str
) -> bool:
    if beneficiary is None:  # nobody found: the look-up lands on the system chain
        return authorize_staff(staff, action, client_address=client_address).allowed
    return authorize_staff(
        staff,
        action,
        patient=beneficiary.patient,
        registry_id=beneficiary.pk,
        client_address=client_address,
    ).allowed


def lookup(staff: User, normalised_nir: str, *, client_address: str = "") -> int | None:
    """The id of the person with this NIR, or None; recorded either way (never the NIR)."""
    with transaction.atomic():
        beneficiary = (
            Beneficiary.objects.select_related("patient")
            .filter(nir_index=nir_index(normalised_nir))
            .first()
        )
        allowed = _on_chain(staff, Action.LOOKUP, beneficiary, client_address)
    if not allowed:
        raise StaffRefused
    return None if beneficiary is None else beneficiary.pk


def view_identity(
    staff: User, beneficiary_id: int, *, client_address: str = ""
) -> Beneficiary | None:
    """The person, before their identity is shown decrypted; None when there is no such id."""
    with transaction.atomic():
        beneficiary = (
            Beneficiary.objects.select_related("patient", "data_key")
            .filter(pk=beneficiary_id)
            .first()
        )
        if beneficiary is None:
            return None
        allowed = _on_chain(staff, Action.VIEW_IDENTITY, beneficiary, client_address)
    if not allowed:
        raise StaffRefused
    return beneficiary


def representatives_shown(
    staff: User, beneficiary_id: int, *, client_address: str = ""
) -> list[Beneficiary]:
    """A minor's legal representatives (issue 17), before their names are shown on the child's
    page: each name is an identity read, recorded on that representative's chain as opening
    their own page would be (in one order, the registry's, so that two readers never wait on
    each other's chains crosswise)."""
    with transaction.atomic():
        people = list(
            Beneficiary.objects.select_related("patient", "data_key")
            .filter(represented_links__child_id=beneficiary_id)
            .order_by("pk")
        )
        allowed = [
            _on_chain(staff, Action.VIEW_IDENTITY, person, client_address) for person in people
        ]
    if not all(allowed):
        raise StaffRefused
    return people


def view_change(staff: User, change_id: int, *, client_address: str = "") -> RegistryChange | None:
    """A proposal with its person, before current and proposed values are shown side by side."""
    change = RegistryChange.objects.filter(pk=change_id).only("beneficiary_id").first()
    if change is None:
        return None
    view_identity(staff, change.beneficiary_id, client_address=client_address)
    return RegistryChange.objects.select_related(
        "beneficiary__data_key", "proposed_by", "decided_by"
    ).get(pk=change_id)
