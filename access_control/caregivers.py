"""Caregivers (issue 17, item 6): an adult patient invites another enrolled person to help with
their record, who accepts or declines in the portal; the patient ends it at any time.

The invitation names the person by three facts the patient must know: their login identifier,
last name and birth date (``identify``). Whatever is wrong, the answer is the same, the work is
the same (one account query, one registry row read and two of its fields decrypted, a decoy
row's when the identifier names nobody enrolled), and the attempt counts against a throttle
like a practitioner's look-up, so that nobody learns who is enrolled, not even by timing. A
person who declined is not invited again by the same patient for ``DECLINED_QUIET_DAYS``, and
the invited person is told by e-mail. What a caregiver may then do is the door's
(``policy_patients._on_behalf``); these services only write the grant, the door deciding and
recording each step in the same transaction. Call them outside any transaction (the views do):
a refusal commits with its event before the error is raised.
"""

from __future__ import annotations

import unicodedata
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from access_control import policy
from access_control.access_requests import lock_patients_decisions
from access_control.acting import name_of
from access_control.decisions import RECORD_CLOSED
from access_control.models import (
    CaregiverEndReason,
    CaregiverGrant,
    CaregiverScope,
    caregiver_last_day,
)
from access_control.notifications import NotificationKind, notify_patient
from accounts.models import User, UserKind
from accounts.throttling import Throttle
from audit.models import Action
from enrollment.models import Beneficiary

# Recorded for an invitation whose identity did not match (the same for every wrong field).
NO_MATCH = "caregiver-no-match"
THROTTLED = "throttled"
ALREADY = "caregiver-already-invited"
NOT_INVITED = "caregiver-not-invited"

# After the invited person declines, the same patient may not invite them again for this many
# days (answered as "already invited"): otherwise a refusal could be followed by invitations
# without end (the throttle gives a successful invitation back). A fixed rule, not a setting:
# nobody needs to tune it per deployment.
DECLINED_QUIET_DAYS = 30


class CaregiverError(Exception):
    """A refusal explained in French; ``field`` names the form field it is about, if one."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class CaregiverNotFound(Exception):
    """No such invitation for this person (someone else's, ended, answered): the view answers
    404 and nothing changed."""


@dataclass(frozen=True)
class Invitation:
    """What the invitation form carries (plain values: the view parsed them)."""

    identifier: str
    last_name: str
    birth_date: date
    scope: str
    until: date


def invite_throttle() -> Throttle:
    """Throttled like a practitioner's look-up (the same limit and window, its own count)."""
    return Throttle(
        "caregiver-invite",
        settings.PRO_LOOKUPS_PER_WINDOW,
        int(settings.PRO_LOOKUP_WINDOW.total_seconds()),
    )


def no_match_message() -> str:
    """The one answer to an identity that matches no enrolled person, whatever is wrong."""
    return _(
        "We could not find an enrolled person with this identifier, last name and date of "
        "birth. Check the three fields: they must be exactly those of the person's account."
    )


def until_message() -> str:
    """Names the last allowed day (one year at most: the same date next year)."""
    today = timezone.localdate()
    return _(
        "The end date must be between today and %(last)s (DD/MM/YYYY, for example %(example)s)."
    ) % {
        "last": caregiver_last_day(today).strftime("%d/%m/%Y"),
        "example": (today + timedelta(days=90)).strftime("%d/%m/%Y"),
    }


def _folded(name: str) -> str:
    """A last name as compared: without accents, case, spaces, hyphens or apostrophes."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(c for c in decomposed if c.isalnum()).casefold()


def identify(identifier: str, last_name: str, birth_date: date) -> User | None:
    """The enrolled patient whose identifier, last name and birth date are these three, or
    None. The same work whatever is wrong: two queries, and the last name and birth date of
    one registry row decrypted and compared. When the identifier names no enrolled account (or
    one without a registry row), that row is a decoy, read by the same query and never a match,
    so that timing does not tell who is enrolled. The decoy is a person drawn at random (the
    first enrolled account from a random uuid on), not a fixed row: a fixed row's data key
    would always be in the unwrapped keys' cache, a real person's seldom."""
    account = User.objects.filter(
        username=identifier.strip(), kind=UserKind.PATIENT, is_active=True
    ).first()
    account_id = account.pk if account is not None else None
    drawn = User.objects.filter(kind=UserKind.PATIENT, beneficiary__isnull=False).order_by("pk")
    decoy_id = Coalesce(
        Subquery(drawn.filter(pk__gte=uuid.uuid4()).values("pk")[:1]),
        Subquery(drawn.values("pk")[:1]),  # past the last uuid: start again from the first
    )
    beneficiary = (
        Beneficiary.objects.select_related("data_key")
        .exclude(patient=None)
        .filter(Q(patient_id=account_id) | Q(patient_id=decoy_id))
        .annotate(own=Case(When(patient_id=account_id, then=Value(0)), default=Value(1)))
        .order_by("own")
        .first()
    )
    if beneficiary is None:  # nobody is enrolled at all: nothing to learn
        return None
    same_name = _folded(str(beneficiary.last_name)) == _folded(last_name)
    same_birth = str(beneficiary.birth_date) == birth_date.isoformat()
    own = account is not None and beneficiary.patient_id == account.pk
    return account if own and same_name and same_birth else None


def invite(patient: User, invitation: Invitation, *, client_address: str = "") -> CaregiverGrant:
    """Invite the person named by ``invitation`` as caregiver of ``patient``'s record, pending
    their acceptance. Refused (CaregiverError): an end date out of bounds (nothing counted),
    a throttled attempt, an identity that matches no one (counted and recorded), oneself, a
    person already invited or who declined lately, a closed record; the door records every
    attempt. The invited person is told by e-mail (nothing of the record, nor who invites)."""
    today = timezone.localdate()
    if not today <= invitation.until <= caregiver_last_day(today):
        raise CaregiverError(until_message(), field="until")
    if invitation.scope not in CaregiverScope.values:
        raise CaregiverError(_("Choose what the caregiver may do."), field="scope")
    throttle = invite_throttle()
    if throttle.attempt(str(patient.pk)):
        with transaction.atomic():
            policy.record_refusal(
                patient, patient, Action.INVITE_CAREGIVER, THROTTLED, client_address=client_address
            )
        raise CaregiverError(_("Too many attempts. Try again in a few minutes."))
    error = ""
    grant: CaregiverGrant | None = None
    with transaction.atomic():
        lock_patients_decisions(patient.pk)
        access = policy.access_to(patient, patient)
        decision = access.decide(Action.INVITE_CAREGIVER)
        caregiver = identify(invitation.identifier, invitation.last_name, invitation.birth_date)
        if decision.allowed and caregiver is not None:
            _end_expired(patient, caregiver, today)
        if not decision.allowed:
            policy.authorize(
                patient, patient, Action.INVITE_CAREGIVER, client_address=client_address
            )
            error = _record_closed() if decision.reason == RECORD_CLOSED else _not_possible()
        elif caregiver is None or caregiver.pk == patient.pk:
            policy.record_refusal(
                patient, patient, Action.INVITE_CAREGIVER, NO_MATCH, client_address=client_address
            )
            error = no_match_message()
        elif _already(patient, caregiver):
            policy.record_refusal(
                patient, patient, Action.INVITE_CAREGIVER, ALREADY, client_address=client_address
            )
            error = _("This person is already your caregiver or already invited.")
        else:
            policy.authorize(
                patient, patient, Action.INVITE_CAREGIVER, client_address=client_address
            )
            grant = _create(patient, caregiver, invitation)
            if grant is not None:
                notify_patient(NotificationKind.CAREGIVER_INVITED, caregiver)
    if error or grant is None:
        raise CaregiverError(error or _not_possible())
    throttle.succeeded(str(patient.pk))
    return grant


def _already(patient: User, caregiver: User) -> bool:
    """Invited and not ended (answered "already"), or declined less than
    ``DECLINED_QUIET_DAYS`` ago (the same answer: the invitation was indeed made)."""
    quiet_since = timezone.now() - timedelta(days=DECLINED_QUIET_DAYS)
    return (
        CaregiverGrant.objects.filter(patient=patient, caregiver=caregiver)
        .filter(
            Q(revoked_at=None)
            | Q(revoked_reason=CaregiverEndReason.DECLINED, revoked_at__gte=quiet_since)
        )
        .exists()
    )


def _end_expired(patient: User, caregiver: User, today: date) -> None:
    """End the pair's grant past its last day (accepted or still pending) before the "already
    invited" check, so that the patient may invite the same person again: the one-year rule is
    renewed knowingly, never blocked (the partial unique constraint allows one unrevoked)."""
    CaregiverGrant.objects.unrevoked().filter(
        patient=patient, caregiver=caregiver, until__lt=today
    ).update(revoked_at=timezone.now(), revoked_reason=CaregiverEndReason.EXPIRED)


def _create(patient: User, caregiver: User, invitation: Invitation) -> CaregiverGrant | None:
    try:
        with transaction.atomic():
            return CaregiverGrant.objects.create(
                patient=patient,
                caregiver=caregiver,
                scope=invitation.scope,
                until=invitation.until,
            )
    except IntegrityError:  # invited by a parallel request: the patient's lock makes it rare
        return None


def end(patient: User, grant_id: int, *, client_address: str = "") -> None:
    """The patient ends a caregiver's access or invitation, at once: the door reads the grant on
    every request. Someone else's or an ended grant: CaregiverNotFound, nothing changes."""
    with transaction.atomic():
        lock_patients_decisions(patient.pk)
        grant = CaregiverGrant.objects.unrevoked().filter(pk=grant_id, patient=patient).first()
        if grant is None:
            raise CaregiverNotFound
        decision = policy.authorize(
            patient, patient, Action.END_CAREGIVER, client_address=client_address
        )
        if decision.allowed:
            grant.revoked_at = timezone.now()
            grant.revoked_reason = CaregiverEndReason.PATIENT
            grant.save(update_fields=["revoked_at", "revoked_reason"])
    if not decision.allowed:
        raise CaregiverError(_not_possible())


def answer(caregiver: User, grant_id: int, *, accept: bool, client_address: str = "") -> None:
    """The invited person accepts or declines a pending invitation addressed to them, recorded
    on the inviting patient's chain with the invited person as actor. Anyone else, or an
    invitation already answered, ended or past its last day: CaregiverNotFound, nothing
    changes. Decided and recorded by the door (caregiver mode) under the owner's decisions
    lock, as the owner's invitations, ends and closure are; someone else is recorded refused."""
    action = Action.ACCEPT_CAREGIVER if accept else Action.DECLINE_CAREGIVER
    pending = CaregiverGrant.objects.pending()
    owner_id = pending.filter(pk=grant_id).values_list("patient_id", flat=True).first()
    if owner_id is None:
        raise CaregiverNotFound
    with transaction.atomic():
        lock_patients_decisions(owner_id)
        grant = (
            pending.select_for_update(of=("self",))
            .select_related("patient")
            .filter(pk=grant_id)
            .first()
        )
        if grant is None:
            raise CaregiverNotFound
        if grant.caregiver_id != caregiver.pk:
            # Not theirs (they may have their own invitation from the same patient: the door
            # would allow the pair, so the refusal is said here, on the owner's chain).
            policy.record_refusal(
                caregiver, grant.patient, action, NOT_INVITED, client_address=client_address
            )
            allowed = False
        else:
            decision = policy.authorize(
                caregiver, grant.patient, action, client_address=client_address
            )
            allowed = decision.allowed
        if allowed:
            now = timezone.now()
            if accept:
                grant.accepted_at = now
            else:
                grant.revoked_at = now
                grant.revoked_reason = CaregiverEndReason.DECLINED
            grant.save(update_fields=["accepted_at", "revoked_at", "revoked_reason"])
    if not allowed:  # raised once the refusal is committed
        raise CaregiverNotFound


# --- Reads for the pages --------------------------------------------------------------------


@dataclass(frozen=True)
class CaregiverRow:
    grant: CaregiverGrant
    name: str  # the other person's name, as the registry holds it (decrypted)


@dataclass(frozen=True)
class CaregiverPage:
    """The patient's caregivers (accepted or pending, not ended nor past), the invitations
    addressed to them, and the records they help with now."""

    caregivers: list[CaregiverRow]
    invitations: list[CaregiverRow]
    helping: list[CaregiverRow]


def caregiver_page(person: User) -> CaregiverPage:
    today = timezone.localdate()
    related = ("patient__beneficiary__data_key", "caregiver__beneficiary__data_key")
    grants = CaregiverGrant.objects.select_related(*related).order_by("-invited_at")
    mine = grants.unrevoked().filter(patient=person, until__gte=today)
    return CaregiverPage(
        caregivers=[CaregiverRow(g, name_of(g.caregiver)) for g in mine],
        invitations=[
            CaregiverRow(g, name_of(g.patient)) for g in grants.pending().filter(caregiver=person)
        ],
        # As the door decides: a closed record is never open to them (its closure ends them).
        helping=[
            CaregiverRow(g, name_of(g.patient))
            for g in grants.live().filter(caregiver=person, patient__record_closure=None)
        ],
    )


def _record_closed() -> str:
    return _("Your record is closed: reopen it first.")


def _not_possible() -> str:
    return _("This action is not possible.")
