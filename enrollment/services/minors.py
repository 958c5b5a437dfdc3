"""A child's record (issue 17, item 2): letters to the legal representatives, and the link.

The child's number typed twice on /enrollment/ gets the page's one answer; in the background
(``services.requests``) a minor whom the registry links to legal representatives
(``RegistryRepresentative``) gets one letter per representative who needs one, at the child's
Vitale address, addressed to that representative by name, with a code bound to the child and
that representative (``CodePurpose.REPRESENTATION``). A minor without representatives is
refused as before. A representative who already represents the child is not written to again;
one whose letter is on its way or whose code is recent is not either (the resend rules of
``services.requests``, per representative).

The representative, logged into their own patient account, types the child's number and that
code on /enrollment/activate/ (``activation.check_code`` matches it only for them); then
``services.representation.link_representative`` creates the child's account the first time (no
usable password: the child has no login until they take over the record at 18) and the
``LegalRepresentation``, which lasts until the eve of the 18th birthday. Both are recorded on
the child's chain, the representative as actor, in the representative mode.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django.conf import settings

from access_control.models import LegalRepresentation
from dmp_portal.crypto.fields import is_destroyed
from enrollment.models import (
    Beneficiary,
    CreationCode,
    RegistryRepresentative,
    RepresentativeLetter,
    RequestOutcome,
)
from enrollment.services.registry import REPRESENTATIVE_LETTER
from letters.models import LetterState
from letters.services import request_letter


def is_minor(person: Beneficiary, today: date) -> bool:
    return person.is_minor_on(today)


def minor_outcome(child: Beneficiary, now: datetime) -> str:
    """What a request for this minor's number leads to (its row locked by the caller)."""
    if child.patient is not None and not child.patient.is_active:
        return RequestOutcome.ENROLLED  # closed: nothing to link any more
    if is_destroyed(child.address):
        return RequestOutcome.ENROLLED
    links = _links(child)
    if not links:
        return RequestOutcome.MINOR
    due, held = _due(child, links, now)
    if due:
        return RequestOutcome.REPRESENTATIVES
    return RequestOutcome.CODE_PENDING if held else RequestOutcome.ENROLLED


def request_representative_letters(child: Beneficiary, now: datetime) -> int:
    """One letter per representative who needs one (in the request's transaction)."""
    due, _held = _due(child, _links(child), now)
    for representative in due:
        letter = request_letter(REPRESENTATIVE_LETTER, child.uid, child.data_key)
        RepresentativeLetter.objects.create(letter=letter, representative=representative)
    return len(due)


def _links(child: Beneficiary) -> list[Beneficiary]:
    return [
        link.representative
        for link in RegistryRepresentative.objects.filter(child=child)
        .select_related("representative__patient")
        .order_by("pk")
    ]


def _due(
    child: Beneficiary, representatives: list[Beneficiary], now: datetime
) -> tuple[list[Beneficiary], bool]:
    """(the representatives to write to, whether a letter or recent code holds one back)."""
    since = now - timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS)
    due, held = [], False
    for representative in representatives:
        if is_destroyed(representative.last_name) or represents(child, representative, now):
            continue
        if _recently_sent(child, representative, since, now):
            held = True
            continue
        due.append(representative)
    return due, held


def represents(child: Beneficiary, representative: Beneficiary, now: datetime) -> bool:
    """Whether this representative already acts for the child (their letter was used)."""
    if child.patient_id is None or representative.patient_id is None:
        return False
    return (
        LegalRepresentation.objects.live(now)
        .filter(minor_id=child.patient_id, representative_id=representative.patient_id)
        .exists()
    )


def _recently_sent(
    child: Beneficiary, representative: Beneficiary, since: datetime, now: datetime
) -> bool:
    """The rule of ``requests._letter_recently_sent``, for this representative's letters."""
    in_flight = RepresentativeLetter.objects.filter(
        representative=representative,
        letter__kind=REPRESENTATIVE_LETTER,
        letter__subject_uid=child.uid,
        letter__requested_at__gte=since,
        letter__state=LetterState.REQUESTED,
    ).exists()
    recent_code = (
        CreationCode.objects.filter(beneficiary=child, representative=representative)
        .holding_back_letters(since, now)
        .exists()
    )
    return in_flight or recent_code
