"""Confidential care of a minor (issue 17, item 4; French public health code art. L1111-5).

A minor may ask that their legal representatives be kept out of some care; the practitioner who
provides it keeps its documents from them. Here: the practitioner author of a document of a
minor's record marks it confidential from the legal representatives (at the upload, a checkbox,
or later on the document's page) and lifts that confidentiality (the minor agreed to share it).
The door then refuses the document to every representative for every action and leaves it out
of their lists (``policy_patients._on_behalf``, ``policy.visible_documents``); the owner, the
minor, always sees it, and so do the practitioners the usual rules let read it.

Who: the document's author only, a practitioner within consent, never in an emergency
(``decisions.AUTHOR_ACTIONS``): the practitioner who provides the confidential care. Another
practitioner, the treating physician included, and the patient or a representative: refused.
Marking asks a minor's record: the registry's birth date (``Beneficiary.age_on``) before
``MAJORITY_AGE`` today; an adult's, or a person with no registry row or no full birth date,
is refused with a French message (the refusal recorded, reason ``not-a-minor``), after the
door, so that only someone it lets act learns anything of the patient's age. Lifting is
allowed at any age: it only gives back what the law allows the representatives.

This module bridges the registry (the birth date) and the records (the flag), which do not know
each other: it sits on access_control's domain floor, as the export does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control import policy
from access_control.decisions import NOT_A_MINOR
from accounts.models import UserKind
from audit.models import Action
from enrollment.models import MAJORITY_AGE, Beneficiary
from records.models import Document
from records.selectors import DocumentNotFound

if TYPE_CHECKING:
    from accounts.models import User


class NotAMinor(Exception):
    """Marking a document of an adult's record (the refusal is recorded): the page says why."""

    def __init__(self) -> None:
        self.message = _(
            "Only a document of a minor's record can be kept confidential from the legal"
            " representatives: according to the registry, this patient is %(age)s or older."
        ) % {"age": MAJORITY_AGE}
        super().__init__(self.message)


def is_minor(patient: User | None, today: date | None = None) -> bool:
    """Whether the registry says ``patient`` is under ``MAJORITY_AGE`` on ``today`` (Paris
    day): their registry row's birth date, the one the enrolment and the representatives'
    checks use. No row, or a birth date destroyed or given only in part: not a minor."""
    if patient is None:
        return False
    beneficiary = Beneficiary.objects.select_related("data_key").filter(patient=patient).first()
    if beneficiary is None:
        return False
    return beneficiary.is_minor_on(today or timezone.localdate())


def offered_at_upload(actor: User, patient: User | None) -> bool:
    """Whether the upload form of ``patient``'s record offers ``actor`` the checkbox: the door
    first (asked, not recorded: the upload page records its own check), then the registry's
    birth date, never read for someone the door turns away."""
    if not policy.access_to(actor, patient).decide(Action.UPLOAD).allowed:
        return False
    return actor.kind == UserKind.PRACTITIONER and is_minor(patient)


@dataclass(frozen=True)
class ConfidentialControl:
    """What a document's page offers its author about the legal representatives."""

    offered: bool  # the control is shown (its author, within consent, on a minor's record)
    confidential: bool  # kept from them now (then the control lifts it)


def control_for(
    reader: User, document: Document, *, access: policy.RecordAccess | None = None
) -> ConfidentialControl:
    """The control of ``document``'s page for ``reader``: the door's answer, asked, not
    recorded (the change is recorded when made). Offered to lift a confidentiality at any age,
    to set one on a minor's record only. ``access``: the one that opened the page, reused
    (issue 20, item 2), else one is loaded here."""
    confidential = document.confidential_from_representatives
    if reader.kind != UserKind.PRACTITIONER:  # an author's control: no question to ask
        return ConfidentialControl(False, confidential)
    action = Action.SHOW_TO_REPRESENTATIVES if confidential else Action.HIDE_FROM_REPRESENTATIVES
    if access is None or access.acting_for:
        access = policy.access_to(reader, document.patient)
    elif access.actor != reader or access.patient != document.patient:
        raise ValueError("control_for() was given the access of another reader or record")
    if not access.decide(action, document).allowed:
        return ConfidentialControl(False, confidential)
    return ConfidentialControl(confidential or is_minor(document.patient), confidential)


def set_confidential(
    actor: User, uid: UUID, confidential: bool, *, client_address: str = ""
) -> Document:
    """Its author keeps the document ``uid`` confidential from the minor's legal
    representatives (``confidential``), or lifts it. One transaction: the document locked, the
    door, the minor's age for marking, the flag on every version of its chain (an earlier
    version is read as its current one, and lists never show one the current one hides). A
    refusal of the door is recorded and raised as DocumentNotFound (404); an adult's record,
    recorded too (``not-a-minor``), raises NotAMinor; either way nothing changes."""
    action = Action.HIDE_FROM_REPRESENTATIVES if confidential else Action.SHOW_TO_REPRESENTATIVES
    adult = False
    with transaction.atomic():
        document = (
            Document.objects.select_for_update(of=("self",))
            .select_related("patient", "data_key")
            .filter(uid=uid)
            .first()
        )
        patient = document.patient if document is not None else None
        access = policy.access_to(actor, patient)
        # The door first: only someone it lets act hears that the patient is not a minor.
        if confidential and document is not None and access.decide(action, document).allowed:
            adult = not is_minor(patient)
        if adult:
            decision = policy.record_refusal(
                actor,
                patient,
                action,
                NOT_A_MINOR,
                client_address=client_address,
                document=document,
            )
        else:
            decision = policy.authorize(
                actor,
                patient,
                action,
                document=document,
                client_address=client_address,
                access=access,
            )
        if decision.allowed and document is not None:  # allowed: the document exists
            chain = [version.pk for version in document.versions()]
            Document.objects.filter(pk__in=chain).update(
                confidential_from_representatives=confidential
            )
            document.confidential_from_representatives = confidential
    if adult:
        raise NotAMinor
    if not decision.allowed or document is None:
        raise DocumentNotFound
    return document
