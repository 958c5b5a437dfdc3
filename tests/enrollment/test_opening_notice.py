"""Notice of every opening: after an activation or a reactivation, a one-page letter to the
Vitale address (in the next batch) and an e-mail to the patient's address if they gave one,
with the day and the operator's number; no code in either."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone

from audit.models import Action, AuditEvent, Outcome
from audit.trail import record_event
from enrollment.services.notices import send_opening_email
from letters.models import Letter, LetterState
from letters.rendering.content import french_date
from letters.services import export_batch
from tests.accounts.factories import give_verified_email
from tests.enrollment.factories import NEW_PASSWORD, make_beneficiary
from tests.letters.reading import CODE_RE, letter_text

pytestmark = pytest.mark.django_db


def notice_of(person, kind: str) -> Letter:
    return Letter.objects.get(subject_uid=person.uid, kind=kind)


def flat(letter: Letter) -> str:
    return " ".join(letter_text(letter).split())


def test_a_first_opening_is_recorded_and_announced_by_post(enrolled, tmp_path: Path):
    person = make_beneficiary()
    user = enrolled(person)
    event = AuditEvent.objects.get(patient=user, action=Action.ACTIVATE)
    assert event.actor is None and event.outcome == Outcome.ALLOWED
    notice = notice_of(person, "opening_notice")
    assert notice.state == LetterState.RENDERED and notice.page_count == 1
    text = flat(notice)
    assert f"a été ouvert le {french_date(timezone.localdate())}" in text
    assert settings.DMP_OPERATOR_PHONE in text and "Si ce n'était pas vous" in text
    assert not CODE_RE.search(text)  # a notice carries no code
    # In the next batch, with the code letter that preceded it.
    batch = export_batch(tmp_path, command_line_user="test")
    assert batch is not None and (batch / f"{notice.reference}.pdf").exists()
    assert notice_of(person, "opening_notice").state == LetterState.DISPATCHED


def test_no_e_mail_without_an_address(enrolled):
    person = make_beneficiary()
    user = enrolled(person)
    assert mail.outbox == []
    event = AuditEvent.objects.get(patient=user, action=Action.ACTIVATE)
    assert send_opening_email(event.pk) is False


def test_a_reactivation_is_announced_by_post_and_by_e_mail(enrolled, posted_code, open_with):
    person = make_beneficiary()
    user = enrolled(person)
    give_verified_email(user, "lea.dupont@example.fr")
    code = posted_code(person)
    mail.outbox.clear()
    open_with(person, code, NEW_PASSWORD)

    text = flat(notice_of(person, "reactivation_notice"))
    today = french_date(timezone.localdate())
    assert f"réactivé le {today}" in text and settings.DMP_OPERATOR_PHONE in text
    assert not CODE_RE.search(text) and code not in text

    [message] = mail.outbox
    assert message.to == ["lea.dupont@example.fr"]
    assert "réactivé" in message.subject or "reactivated" in message.subject
    assert today in message.body and settings.DMP_OPERATOR_PHONE in message.body
    assert code not in message.body and user.username not in message.body


def test_the_e_mail_task_takes_only_an_opening_event(enrolled):
    person = make_beneficiary()
    user = enrolled(person)
    give_verified_email(user, "lea.dupont@example.fr")
    with transaction.atomic():
        other = record_event(
            actor=user, patient=user, action=Action.VIEW_HISTORY, outcome=Outcome.ALLOWED
        )
    assert send_opening_email(other.pk) is False
    assert send_opening_email(0) is False
    opened = AuditEvent.objects.get(patient=user, action=Action.ACTIVATE)
    assert send_opening_email(opened.pk) is True
    assert "ouvert" in mail.outbox[-1].body or "opened" in mail.outbox[-1].body


def test_the_e_mail_says_the_first_of_the_month_as_the_letter_does(enrolled):
    """« le 1er décembre 2026 », not Django's French « 1 décembre » (found on a 1 December);
    in English, the date as the portal writes it."""
    person = make_beneficiary()
    user = enrolled(person)
    give_verified_email(user, "lea.dupont@example.fr")
    first = timezone.make_aware(datetime(2026, 12, 1, 10, 0))
    with time_machine.travel(first, tick=False), transaction.atomic():
        opened = record_event(
            actor=user, patient=user, action=Action.ACTIVATE, outcome=Outcome.ALLOWED
        )
    assert send_opening_email(opened.pk) is True
    assert "le 1er décembre 2026" in mail.outbox[-1].body
    user.language = "en"
    user.save(update_fields=["language"])
    assert send_opening_email(opened.pk) is True
    assert "opened on 1 December 2026" in mail.outbox[-1].body
