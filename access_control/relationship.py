"""A practitioner's relationship to one record, loaded once per request for the door.

Facts only (what the patient decided, what is ongoing); what they allow is ``policy.decide``'s
business alone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from access_control.models import (
    Block,
    CaregiverGrant,
    Consent,
    EmergencyAccess,
    LegalRepresentation,
    ProfessionRule,
    RecordClosure,
    RecordSettings,
    TreatingPhysician,
)
from accounts.models import PractitionerProfile, User


@dataclass(frozen=True)
class Relationship:
    """What ties one practitioner to one record at one moment. Loaded by ``relationship_of`` in
    the same two queries whether or not the record exists, so that its cost tells nothing."""

    blocked: bool = False
    consent: bool = False
    emergency: bool = False
    opted_out: bool = False
    treating_physician: bool = False
    readable_categories: frozenset[int] = field(default_factory=frozenset)
    # The record's closure: "" while open, else its ``ClosureReason`` (patient, death).
    closure: str = ""
    # Its archive period ended before the day it was loaded for (``closure_for_purge``).
    archive_over: bool = False
    # A patient acting on another person's record (issue 17, ``on_behalf_of``): a live legal
    # representation of its owner, and the scope of a live accepted caregiver grant ("" if none).
    represents: bool = False
    caregiver_scope: str = ""
    # A pending invitation of the pair (the invited person may accept or decline it).
    invited: bool = False


# Stands for "no record" in the relationship's query, so that it has the same shape and plan
# (an equality on an index) whether or not the record exists; no account has this id.
NO_RECORD_ID = uuid.UUID(int=0)


def relationship_of(
    practitioner: User, patient: User | None, now: datetime | None = None
) -> Relationship:
    """One query for the pair (every state as an EXISTS), one for the profession's categories.

    ``patient`` may be None (no record): the same queries run, and find nothing.
    """
    now = now or timezone.now()
    patient_id = patient.pk if patient is not None else NO_RECORD_ID
    pair = {"patient_id": patient_id, "practitioner_id": OuterRef("pk")}
    facts = (
        User.objects.filter(pk=practitioner.pk)
        .annotate(
            blocked=Exists(Block.objects.active().filter(**pair)),
            consent=Exists(Consent.objects.live(now).filter(**pair)),
            emergency=Exists(EmergencyAccess.objects.active(now).filter(**pair)),
            opted_out=Exists(
                RecordSettings.objects.filter(patient_id=patient_id, emergency_opt_out=True)
            ),
            treating_physician=Exists(
                TreatingPhysician.objects.filter(patient_id=patient_id, physician_id=OuterRef("pk"))
            ),
            closure=_closure(patient_id),
        )
        .values("blocked", "consent", "emergency", "opted_out", "treating_physician", "closure")
        .first()
    )
    readable = ProfessionRule.objects.filter(profession=_profession(practitioner), may_read=True)
    categories = frozenset(readable.values_list("category_id", flat=True))
    if facts is None:  # no such account: none of the facts holds
        return Relationship(readable_categories=categories)
    facts["closure"] = facts["closure"] or ""
    return Relationship(readable_categories=categories, **facts)


def _closure(patient_id: uuid.UUID) -> Subquery:
    """The reason of the record's closure, or NULL while it is open (one row per record)."""
    return Subquery(RecordClosure.objects.filter(patient_id=patient_id).values("reason")[:1])


def own_record_of(patient: User) -> Relationship:
    """The patient's relationship to their own record: whether (and why) it is closed, in one
    query. The patient's other facts are theirs by definition (the door asks nothing else)."""
    reason = RecordClosure.objects.filter(patient_id=patient.pk).values_list("reason", flat=True)
    return Relationship(closure=reason.first() or "")


def on_behalf_of(actor: User, patient: User, now: datetime | None = None) -> Relationship:
    """A patient's relationship to another person's record (issue 17), in one query: a live
    representation of its owner, a live accepted caregiver grant's scope, the record's closure.
    The same query runs whatever ties them, or nothing does."""
    pair = {"representative_id": actor.pk, "minor_id": patient.pk}
    pair_grants = CaregiverGrant.objects.filter(caregiver_id=actor.pk, patient_id=patient.pk)
    grant = pair_grants.live(now)
    facts = (
        User.objects.filter(pk=patient.pk)
        .annotate(
            represents=Exists(LegalRepresentation.objects.live(now).filter(**pair)),
            caregiver_scope=Subquery(grant.values("scope")[:1]),
            invited=Exists(pair_grants.pending(now)),
            closure=_closure(patient.pk),
        )
        .values("represents", "caregiver_scope", "invited", "closure")
        .first()
    )
    if facts is None:
        return Relationship()
    return Relationship(
        represents=facts["represents"],
        caregiver_scope=facts["caregiver_scope"] or "",
        invited=facts["invited"],
        closure=facts["closure"] or "",
    )


def closure_for_purge(patient: User, today: date) -> Relationship:
    """The facts the purge is decided on, in one query: whether (and why) the record is closed,
    and whether its archive period ended before ``today`` (``archive_until`` is its last day)."""
    row = (
        RecordClosure.objects.filter(patient_id=patient.pk)
        .values_list("reason", "archive_until")
        .first()
    )
    if row is None:
        return Relationship()
    reason, archive_until = row
    return Relationship(closure=reason, archive_over=archive_until < today)


def _profession(practitioner: User) -> str:
    profile: PractitionerProfile | None = getattr(practitioner, "practitioner_profile", None)
    return profile.profession if profile is not None else ""
