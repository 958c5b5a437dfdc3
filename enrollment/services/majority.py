"""Coming of age (issue 17, item 5): on a child's 18th birthday their legal representatives'
access ends, and a letter to the young adult's Vitale address brings a code to take the record
over (``CodePurpose.MAJORITY``).

The daily beat (``enrollment.tasks.queue_majorities``) queues one task per young adult whose
record still has a live legal representation and who is 18 or over today: a day the beat did
not run is caught up at the next run, since the birthday only has to be past. Each task
(``come_of_age``) ends every live representation of that record (``ended_reason`` majority,
one ``end-representation`` event per representation on the young adult's chain, in no one's
name) and asks for the letter, in one transaction; done, the record has no live representation
any more, so that a second run (or a task queued twice) finds nothing to do and asks for no
second letter.

The code is used at /enrollment/activate/ like a reactivation code (services.activation): the
existing account gets its first password, the young adult sees their login identifier, and
nothing of the record is touched (documents, consents, history are kept). It is refused to
anyone signed into an account (a former representative holding the letter, or anyone else):
the one answer to a wrong code, counted as a wrong try.

The birthday is the one of ``enrollment.models.age_on``, the registry import's rule: someone
born on 29 February comes of age on 1 March in a common year.
"""

from __future__ import annotations

from datetime import date
from uuid import UUID

from django.db import transaction
from django.utils import timezone

from access_control.models import LegalRepresentation, RepresentationEndReason
from accounts.models import User
from audit.models import Action, Outcome
from audit.trail import record_event
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.queueing import enqueue
from enrollment.models import Beneficiary, CodePurpose, CreationCode
from enrollment.services.registry import MAJORITY_LETTER
from letters.models import Letter, LetterState
from letters.services import request_letter

COME_OF_AGE_TASK = "enrollment.tasks.come_of_age"
# The events' reason: the representation ended because its minor came of age.
MAJORITY_REASON = "majority"


def _of_age(beneficiary: Beneficiary, today: date) -> bool:
    # A person whose data was destroyed has no birth date left to read: never due.
    if is_destroyed(beneficiary.birth_date):
        return False
    return not beneficiary.is_minor_on(today)


def due_minors(today: date | None = None) -> list[UUID]:
    """The accounts of the records that still have a live legal representation and whose
    person is 18 or over ``today`` (a birthday missed by the beat included).

    The birth date is encrypted with each person's key, so the check is made here, for the
    records with a live representation only (the children's, a small part of the registry).
    """
    today = today or timezone.localdate()
    # ``until`` (the eve of the 18th birthday, in clear) narrows it in SQL; the birth date still
    # decides, so a row whose ``until`` was set wrong cannot end a minor's representation early.
    represented = LegalRepresentation.objects.unended().filter(until__lt=today).values("minor_id")
    people = Beneficiary.objects.select_related("data_key").filter(patient_id__in=represented)
    return [
        person.patient_id
        for person in people.iterator(chunk_size=500)
        if person.patient_id is not None and _of_age(person, today)
    ]


def queue_majorities(today: date | None = None) -> int:
    """The beat's daily work: one ``come_of_age`` task per young adult due (by id only).
    Returns how many were queued."""
    due = due_minors(today)
    for minor_id in due:
        enqueue(COME_OF_AGE_TASK, minor_id)
    return len(due)


def come_of_age(minor_id: UUID, today: date | None = None) -> bool:
    """End every live legal representation of this record and ask for the young adult's
    letter, if they are 18 or over ``today``; idempotent (False when nothing was due).

    Rows are locked in the order of an activation (the registry entry, then the account), so
    that this task and the use of a code never wait for each other in a circle.
    """
    today = today or timezone.localdate()
    with transaction.atomic():
        person = (
            Beneficiary.objects.select_for_update(of=("self",))
            .select_related("data_key")
            .filter(patient_id=minor_id)
            .first()
        )
        if person is None or not _of_age(person, today):
            return False
        # The patient's decisions lock (access_control.access_requests.lock_patients_decisions,
        # a floor above this one, takes the same row lock): a representative's decision in
        # flight is committed before the representation ends, or sees it ended.
        young_adult = User.objects.select_for_update(no_key=True).get(pk=minor_id)
        ended = list(
            LegalRepresentation.objects.unended()
            .select_for_update()
            .filter(minor=young_adult)
            .values_list("pk", flat=True)
        )
        if not ended:
            return False
        now = timezone.now()
        LegalRepresentation.objects.filter(pk__in=ended).update(
            ended_at=now, ended_reason=RepresentationEndReason.MAJORITY
        )
        for _representation in ended:
            # In no one's name: the birthday is the rule, nobody decided it.
            record_event(
                actor=None,
                patient=young_adult,
                action=Action.END_REPRESENTATION,
                outcome=Outcome.ALLOWED,
                reason=MAJORITY_REASON,
            )
        # A closed account (a recorded death) gets no letter; its representations end all
        # the same (the closure has normally ended them already).
        if young_adult.is_active:
            request_letter(MAJORITY_LETTER, person.uid, person.data_key)
    return True


def is_takeover(code_id: int) -> bool:
    """Whether this (checked) code is a young adult's to take their record over."""
    return CreationCode.objects.filter(pk=code_id, purpose=CodePurpose.MAJORITY).exists()


def takeover_pending(beneficiary: Beneficiary) -> bool:
    """Whether this person's takeover is still on its way: a live takeover code, or a takeover
    letter not yet handed to the mail house. A confirmed move sends it again as a takeover
    letter (services.registry_changes), not as a reactivation asked for by nobody."""
    live_code = (
        CreationCode.objects.filter(beneficiary=beneficiary, purpose=CodePurpose.MAJORITY)
        .live()
        .exists()
    )
    unsent = Letter.objects.filter(
        kind=MAJORITY_LETTER,
        subject_uid=beneficiary.uid,
        state__in=[LetterState.REQUESTED, LetterState.RENDERED],
        batch__isnull=True,
    ).exists()
    return live_code or unsent
