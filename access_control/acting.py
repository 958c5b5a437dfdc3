"""Acting for someone (issue 17, item 3): the records a person may act on besides their own,
and the one the record pages act on now.

A legal representative (a live ``LegalRepresentation``) or a caregiver (a live accepted
``CaregiverGrant``) chooses, with the switch, whose record the record pages show. The choice is
kept in the session (never in an address: a link shared or left in a browser's history names
no one else's record) and is asked of the door again on every request (``current``): a revoked
grant or an ended representation takes effect on the next request, which falls back to one's
own record. The pages then call the door with ``acting_for=True`` for the chosen owner only.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils.translation import gettext as _

from access_control import policy
from access_control.models import CaregiverGrant, CaregiverScope, LegalRepresentation
from accounts.models import User, UserKind
from audit.models import Action, Mode

# The session's key for the chosen owner's id; absent on one's own record.
SESSION_KEY = "acting_for"
# The switch's value for one's own record.
MINE = "mine"
# The hidden field of every form of the pages that follow the switch: whose record the page was
# drawn for (``includes/acting_field.html``: ``MINE`` or the chosen owner's id). Which record a
# POST acts on is otherwise read from the session when it arrives: a form drawn for one record
# and sent after the switch changed in another tab, or after the access ended, would land on
# another record (one's own, or the one chosen since). Such a form changes nothing.
FORM_FIELD = "acting_record"


class NotATie(Exception):
    """Not a record this person may act on (unknown, no live tie, closed): the view answers 404
    and changes nothing."""


@dataclass(frozen=True)
class Tie:
    """A record one may act on: its owner, their registry name, and the role the door gives
    (``Mode.REPRESENTATIVE`` or ``Mode.CAREGIVER``, with the caregiver's scope)."""

    owner: User
    name: str
    role: str
    scope: str = ""
    # What the door lets this helper do on the consents page (``access_control.views``): grant
    # and revoke (a caregiver with ``manage``, a representative), block (a representative).
    consents: bool = False
    blocks: bool = False

    @property
    def role_label(self) -> str:
        """The role in a few words, for the switch's list."""
        if self.role == Mode.REPRESENTATIVE:
            return _("legal representative")
        if self.scope == CaregiverScope.MANAGE:
            return _("caregiver, read and manage")
        return _("caregiver, read only")

    @property
    def banner(self) -> str:
        """Whose record the page acts on, and as what: one whole sentence per role (French
        elides « que » before « aidant »)."""
        if self.role == Mode.REPRESENTATIVE:
            text = _("You are acting for the record of %(name)s as their legal representative.")
        elif self.scope == CaregiverScope.MANAGE:
            text = _(
                "You are acting for the record of %(name)s as their caregiver (read and manage)."
            )
        else:
            text = _("You are acting for the record of %(name)s as their caregiver (read only).")
        return text % {"name": self.name}


@dataclass(frozen=True)
class Current:
    """The record the record pages act on for this request: ``owner`` is the signed-in person
    themself unless ``tie`` says whose record it is. ``ended``: the record chosen earlier may no
    longer be acted on (the grant was revoked, the representation ended, the record closed),
    so the pages fell back to one's own record and say so once."""

    owner: User
    tie: Tie | None = None
    ended: bool = False

    @property
    def acting_for(self) -> bool:
        """What the pages pass to the door: True only for the owner chosen with the switch."""
        return self.tie is not None

    def acting_for_document(self, patient_id: Any) -> bool:
        """For a page addressed by a document's uid: acting for someone only on a document of
        the chosen owner's record; any other person's document keeps the door's refusal."""
        return self.tie is not None and patient_id == self.owner.pk


def name_of(person: User) -> str:
    """A person's name as the registry holds it (decrypted), as the caregivers' page names
    them: shown only to the two people of a tie, or in the owner's history (``history``)."""
    # Read as an attribute, so that tests/test_door_acceptance_scan.py sees this reader (the
    # registry's model is not named: the record pages, which import this module, must not
    # import enrollment: .importlinter, enrollment-records).
    try:
        beneficiary = person.beneficiary
    except ObjectDoesNotExist:
        return ""
    return f"{beneficiary.first_name} {beneficiary.last_name}"


class StaleForm(Exception):
    """A form drawn for another record than the one the switch gives now (``FORM_FIELD``)."""


def form_record(now: Current, *, follows: bool = True) -> str:
    """The value of ``FORM_FIELD`` for a page drawn now: the chosen owner's id on a page that
    acts on the chosen record (``follows``), else ``MINE`` (a read-only caregiver's consents
    page is their own)."""
    return str(now.owner.pk) if now.tie is not None and follows else MINE


def check_form(now: Current, posted: Mapping[str, Any], *, follows: bool = True) -> None:
    """Raise ``StaleForm`` unless the form was drawn for the record the page acts on now (a
    form without the field was drawn for one's own record: every form of a person who acts for
    nobody)."""
    if (posted.get(FORM_FIELD) or MINE) != form_record(now, follows=follows):
        raise StaleForm


def stale_form_message() -> str:
    return _(
        "The record shown changed since this page was opened (you switched records, or your"
        " access ended): nothing was saved. Check whose record it is, then try again."
    )


def ended_message() -> str:
    return _(
        "You may no longer act for this person (the access ended or was withdrawn): you are back"
        " on your own record."
    )


def ties_of(person: User) -> list[Tie]:
    """The records ``person`` may act on now besides their own, representations first: the
    candidates their live ties name (two queries), each then asked of the door (``_tie``: one
    query each), so that the switch never offers what the door would refuse. None for anyone
    but a patient."""
    if person.kind != UserKind.PATIENT:
        return []
    represented = (
        LegalRepresentation.objects.live()
        .filter(representative=person, minor__record_closure=None)
        .select_related("minor__beneficiary__data_key")
        .order_by("started_at")
    )
    helped = (
        CaregiverGrant.objects.live()
        .filter(caregiver=person, patient__record_closure=None)
        .select_related("patient__beneficiary__data_key")
        .order_by("accepted_at")
    )
    owners = {tie.minor.pk: tie.minor for tie in represented}
    for grant in helped:  # a representation wins over a grant (the door's rule)
        owners.setdefault(grant.patient.pk, grant.patient)
    ties = (_tie(person, owner) for owner in owners.values())
    return [tie for tie in ties if tie is not None]


def _owner(owner_id: object) -> User | None:
    try:
        pk = UUID(str(owner_id))
    except ValueError:
        return None
    return User.objects.filter(pk=pk, kind=UserKind.PATIENT).first()


def _tie(person: User, owner: User | None) -> Tie | None:
    """The door's answer (asked, not recorded: the page that follows records its own read):
    whether ``person`` may act on ``owner``'s record now, and in which role."""
    if owner is None or person.kind != UserKind.PATIENT or owner.pk == person.pk:
        return None
    access = policy.access_to(person, owner, acting_for=True)
    decision = access.decide(Action.LIST)
    if not decision.allowed or access.relationship is None:
        return None
    scope = "" if decision.mode == Mode.REPRESENTATIVE else access.relationship.caregiver_scope
    return Tie(
        owner,
        name_of(owner),
        decision.mode,
        scope,
        # Asked of the same loaded relationship: no query more.
        consents=access.decide(Action.GRANT).allowed,
        blocks=access.decide(Action.BLOCK).allowed,
    )


def choose(
    person: User,
    owner_id: object,
    session: MutableMapping[str, Any],
    *,
    client_address: str = "",
) -> Current:
    """The switch: act on ``owner_id``'s record from now on, or on one's own (``owner_id`` is
    the person's own id). ``session`` is the signed-in person's session (a mapping). A choice
    the door refuses is recorded (as the list of that record it asks for) and raised as
    NotATie; the session is then left as it was."""
    owner = _owner(owner_id)
    if owner is not None and owner.pk == person.pk:
        session.pop(SESSION_KEY, None)
        return Current(person)
    tie = _tie(person, owner)
    if tie is None:
        with transaction.atomic():
            policy.authorize(
                person, owner, Action.LIST, client_address=client_address, acting_for=True
            )
        raise NotATie
    session[SESSION_KEY] = str(tie.owner.pk)
    return Current(tie.owner, tie)


def current(person: User, session: MutableMapping[str, Any]) -> Current:
    """The record the pages act on for this request, the door asked again each time (one
    query when a record was chosen, none otherwise). A choice the door no longer allows is
    dropped from the session: the pages fall back to one's own record (``ended``)."""
    chosen = session.get(SESSION_KEY)
    if not chosen:
        return Current(person)
    tie = _tie(person, _owner(chosen))
    if tie is None:
        session.pop(SESSION_KEY, None)
        return Current(person, ended=True)
    return Current(tie.owner, tie)
