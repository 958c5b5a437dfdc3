"""Four-eyes changes to the registry: one staff member proposes, a different one confirms.

The registry is the Vitale reference data and ``import_beneficiaries`` stays the normal way to
update it. A correction typed by staff (a misspelt street, a move the import has not caught up
with yet) waits, encrypted with the person's key, until a second staff member confirms or
rejects it. Both steps pass the door (``authorize_staff``) and land on the person's chain.

Why: a single staff member who could edit a not-yet-enrolled person's address could have that
person's letter, and its creation code, posted to themselves, and take over the enrolment.

A confirmed change of address also stops every code already issued to the old address and
voids the letters not yet handed to the mail house: a code must reach only the address the
registry now holds. When something was on its way, a new letter is requested at once, so the
person is not left waiting for a code they asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control.decisions import FOUR_EYES_OWN_PROPOSAL, Decision, StaffRefused
from access_control.policy import authorize_staff
from audit.models import Action
from dmp_portal.crypto.fields import is_destroyed
from enrollment.models import Beneficiary, RegistryChange, RegistryChangeState
from enrollment.postal import PostalAddressJson
from enrollment.services.codes import letter_returned
from enrollment.services.majority import takeover_pending
from enrollment.services.minors import is_minor, request_representative_letters
from enrollment.services.registry import (
    CODE_LETTERS,
    CREATION_LETTER,
    MAJORITY_LETTER,
    REACTIVATION_LETTER,
)
from enrollment.services.representatives import follow_birth_date
from letters.services import request_letter, void_unsent

if TYPE_CHECKING:
    from accounts.models import User

IdentityField = Literal["last_name", "first_name", "birth_date", "regime"]
IDENTITY_FIELDS: tuple[IdentityField, ...] = ("last_name", "first_name", "birth_date", "regime")
ADDRESS: Final = "address"


class RegistryValues(TypedDict):
    """A person's whole identity as a proposal holds it (``RegistryChange.values``, JSON)."""

    last_name: str
    first_name: str
    birth_date: str  # ISO 8601
    regime: str
    address: PostalAddressJson


def current_values(beneficiary: Beneficiary) -> dict[str, Any]:
    """The person's identity and address as a proposal holds them (decrypts: audit first)."""
    values: dict[str, Any] = {name: getattr(beneficiary, name) for name in IDENTITY_FIELDS}
    values[ADDRESS] = beneficiary.address
    return values


def changed_fields(beneficiary: Beneficiary, values: RegistryValues) -> list[str]:
    """Names of the fields ``values`` would change; an address counts by its printed lines."""
    current = current_values(beneficiary)
    if any(is_destroyed(value) for value in current.values()):
        raise ValidationError(_("This person's data was destroyed: nothing can be changed."))
    changed: list[str] = [
        name for name in IDENTITY_FIELDS if str(values[name]) != str(current[name])
    ]
    if list(values[ADDRESS]["lines"]) != list(current[ADDRESS]["lines"]):
        changed.append(ADDRESS)
    return changed


def _door(
    staff: User,
    action: Action,
    beneficiary: Beneficiary,
    client_address: str,
    proposed_by: UUID | None = None,
) -> Decision:
    return authorize_staff(
        staff,
        action,
        patient=beneficiary.patient,
        registry_id=beneficiary.pk,
        proposed_by=proposed_by,
        client_address=client_address,
    )


def propose_change(
    staff: User, beneficiary_id: int, values: RegistryValues, *, client_address: str = ""
) -> RegistryChange:
    """Store a proposal; nothing in the registry changes until another staff member confirms."""
    with transaction.atomic():
        beneficiary = (
            Beneficiary.objects.select_for_update()
            .select_related("data_key")
            .get(pk=beneficiary_id)
        )
        changed = changed_fields(beneficiary, values)
        if not changed:
            raise ValidationError(_("Nothing to change: the values are those of the registry."))
        if RegistryChange.objects.filter(
            beneficiary=beneficiary, state=RegistryChangeState.PENDING
        ).exists():
            raise ValidationError(
                _(
                    "A change to this person is already awaiting confirmation: it must be "
                    "confirmed or rejected first."
                )
            )
        allowed = _door(staff, Action.PROPOSE_CHANGE, beneficiary, client_address).allowed
        if allowed:
            change = RegistryChange.objects.create(
                beneficiary=beneficiary,
                proposed_by=staff,
                values={
                    **{name: values[name] for name in IDENTITY_FIELDS},
                    ADDRESS: values[ADDRESS],
                },
                changed_fields=",".join(changed),
            )
    if not allowed:
        raise StaffRefused
    return change


def decide_change(
    staff: User, change_id: int, *, confirm: bool, client_address: str = ""
) -> RegistryChange:
    """Confirm (apply) or reject a proposal, as a staff member other than its author.

    Both outcomes are the second pair of eyes at work: the door records them as
    ``confirm-change`` on the person's chain, and the proposal keeps which one it was.
    """
    with transaction.atomic():
        change = RegistryChange.objects.select_for_update().get(pk=change_id)
        if change.state != RegistryChangeState.PENDING:
            raise ValidationError(_("This change was already decided."))
        beneficiary = (
            Beneficiary.objects.select_for_update()
            .select_related("data_key")
            .get(pk=change.beneficiary_id)
        )
        change.beneficiary = beneficiary
        # The door refuses the proposer (four eyes), and that refusal is recorded too.
        decision = _door(
            staff, Action.CONFIRM_CHANGE, beneficiary, client_address, change.proposed_by_id
        )
        allowed = decision.allowed
        if allowed:
            if confirm:
                _apply(beneficiary, change)
            change.state = (
                RegistryChangeState.CONFIRMED if confirm else RegistryChangeState.REJECTED
            )
            change.decided_by = staff
            change.decided_at = timezone.now()
            change.save(update_fields=["state", "decided_by", "decided_at"])
    if decision.reason == FOUR_EYES_OWN_PROPOSAL:
        raise ValidationError(
            _("You proposed this change: another staff member must confirm or reject it.")
        )
    if not allowed:
        raise StaffRefused
    return change


def _apply(beneficiary: Beneficiary, change: RegistryChange) -> None:
    values = change.values
    moved = ADDRESS in change.changed_fields.split(",")
    for name in IDENTITY_FIELDS:
        setattr(beneficiary, name, values[name])
    beneficiary.address = values[ADDRESS]
    beneficiary.save()
    follow_birth_date(beneficiary)
    if moved:
        _redirect_pending_letter(beneficiary)


def _redirect_pending_letter(beneficiary: Beneficiary) -> None:
    """The old address's code stops working; a letter on its way goes to the new address (a
    reactivation letter when the record exists, else a creation letter)."""
    kind = REACTIVATION_LETTER if beneficiary.patient_id is not None else CREATION_LETTER
    if takeover_pending(beneficiary):  # issue 17: a young adult's, at 18 (services.majority)
        kind = MAJORITY_LETTER
    had_live_code = beneficiary.creation_codes.filter(
        used_at__isnull=True, superseded_at__isnull=True, burned_at__isnull=True
    ).exists()
    letter_returned(beneficiary.uid)
    voided = sum(void_unsent(code_letter, beneficiary.uid) for code_letter in CODE_LETTERS)
    if is_minor(beneficiary, timezone.localdate()):
        # A minor's letters go to their representatives, each their own (services.minors).
        if had_live_code or voided:
            request_representative_letters(beneficiary, timezone.now())
    elif had_live_code or voided:
        request_letter(kind, beneficiary.uid, beneficiary.data_key)
