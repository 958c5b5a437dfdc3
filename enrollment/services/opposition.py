"""A person's opposition to the creation of their record, recorded by staff.

The person writes (a signed request, like any exercise of a right over the registry); one staff
member records or lifts the opposition on their registry entry. It passes the door
(``set-opposition``, ``lift-opposition``) and lands on the person's registry chain, naming the
staff member; staff see no health content and no identity here (the page shows the entry's
reference, whether a record exists and the opposition's date).

No four eyes, unlike the registry's identity changes: four eyes there stops one staff member
from sending a person's letter, and its creation code, to an address of their choosing. An
opposition sends nothing anywhere: setting it stops codes and letters; lifting it sends nothing
either (the person asks on /enrollment/ like anyone, and the letter goes to the address of the
registry, which one staff member cannot change alone). The worst a single staff member can do is
delay someone's enrolment, visibly, on that person's own chain, and any colleague can undo it.

A person who already has a record: opposition no longer applies (the database refuses both at
once); closing the record is the patient's own path, from their record.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from access_control.policy import authorize_staff
from audit.models import Action
from enrollment.models import Beneficiary
from enrollment.services.registry import change_opposition, has_record_message
from enrollment.services.registry_changes import StaffRefused

if TYPE_CHECKING:
    from accounts.models import User


def set_opposition(
    staff: User, beneficiary_id: int, *, opposed: bool, client_address: str = ""
) -> Beneficiary:
    """Record (``opposed``) or lift the person's opposition, as ``staff``.

    Raises ``ValidationError`` (French) when there is nothing to do or the person has a record,
    before the door is asked: nothing is recorded or changed. Raises ``StaffRefused`` when the
    door refuses (the refusal is committed on the person's chain; answer 404).
    """
    with transaction.atomic():
        beneficiary = (
            Beneficiary.objects.select_for_update(of=("self",))
            .select_related("patient")
            .get(pk=beneficiary_id)
        )
        if opposed and beneficiary.patient_id is not None:
            raise ValidationError(has_record_message())
        if opposed and beneficiary.opposed_at is not None:
            raise ValidationError(_("This person's opposition is already recorded."))
        if not opposed and beneficiary.opposed_at is None:
            raise ValidationError(_("This person has not opposed the creation of a record."))
        allowed = authorize_staff(
            staff,
            Action.SET_OPPOSITION if opposed else Action.LIFT_OPPOSITION,
            patient=beneficiary.patient,
            registry_id=beneficiary.pk,
            client_address=client_address,
        ).allowed
        if allowed:
            change_opposition(beneficiary, opposed)
    if not allowed:
        raise StaffRefused
    return beneficiary
