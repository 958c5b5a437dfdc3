"""A code burnt or slowed by wrong tries starts no new letter before the resend delay, and
the next letter tells its holder what happened."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from enrollment.models import CreationCode, EnrollmentRequest, RequestOutcome
from letters.models import Letter
from letters.rendering.content import french_date
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.letters.reading import code_from_letter, letter_text

pytestmark = pytest.mark.django_db
START = "2026-11-02 10:00 +0100"
WRONG_CODE = "0000-0000-0000"
NOTICE = "bloqué le"


@pytest.fixture
def ask(django_capture_on_commit_callbacks):
    """Ask for a code from a new address, and let the worker's task run here."""
    addresses = iter(range(1, 250))

    def run(nir: str):
        with django_capture_on_commit_callbacks(execute=True):
            return Client(REMOTE_ADDR=f"198.51.100.{next(addresses)}").post(
                "/enrollment/", {"nir": nir, "nir_confirmation": nir}
            )

    return run


def wrong_tries(nir: str, count: int, clock) -> None:
    """Guesses spread out in time, each after the delay the page imposes, as a patient
    attacker would."""
    for attempt in range(count):
        clock.shift(3600)
        response = Client(REMOTE_ADDR=f"203.0.113.{attempt + 1}").post(
            "/enrollment/activate/", {"nir": nir, "creation_code": WRONG_CODE}
        )
        assert response.status_code == 200


def letters_of(person) -> int:
    return Letter.objects.filter(subject_uid=person.uid).count()


def test_a_burnt_code_starts_no_new_letter_before_the_resend_delay(ask):
    person = make_beneficiary()
    with time_machine.travel(START, tick=False) as clock:
        first = ask(person.nir)
        wrong_tries(person.nir, settings.ENROLLMENT_CODE_MAX_FAILURES, clock)
        assert CreationCode.objects.get(beneficiary=person).burned_at is not None

        again = ask(person.nir)
        assert letters_of(person) == 1
        assert EnrollmentRequest.objects.latest("pk").outcome == RequestOutcome.CODE_PENDING
        # The page says the same as for any number.
        assert again.status_code == first.status_code == 200
        assert "Votre demande est enregistrée" in again.content.decode()

        # Burning the next code, again and again, gets no further letter within the delay.
        for _round in range(3):
            wrong_tries(person.nir, settings.ENROLLMENT_CODE_MAX_FAILURES, clock)
            ask(person.nir)
        assert letters_of(person) == 1

        clock.shift(timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS))
        ask(person.nir)
        assert letters_of(person) == 2


def test_a_code_slowed_by_wrong_tries_starts_no_new_letter_either(ask):
    person = make_beneficiary()
    with time_machine.travel(START, tick=False) as clock:
        ask(person.nir)
        wrong_tries(person.nir, settings.ENROLLMENT_CODE_FREE_FAILURES + 1, clock)
        ask(person.nir)
    assert letters_of(person) == 1
    code = CreationCode.objects.get(beneficiary=person)
    assert code.burned_at is None and code.superseded_at is None


def test_the_next_letter_says_the_previous_code_was_blocked_and_what_to_do(ask):
    person = make_beneficiary()
    with time_machine.travel(START, tick=False) as clock:
        ask(person.nir)
        wrong_tries(person.nir, settings.ENROLLMENT_CODE_MAX_FAILURES, clock)
        burned_on = timezone.localdate(CreationCode.objects.get(beneficiary=person).burned_at)
        clock.shift(timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS))
        ask(person.nir)
    newest = Letter.objects.filter(subject_uid=person.uid).latest("requested_at")
    text = " ".join(letter_text(newest).split())
    assert (
        f"Le code de création envoyé dans notre précédent courrier a été bloqué le "
        f"{french_date(burned_on)} après plusieurs saisies erronées." in text
    )
    assert "Si ce n'était pas vous" in text
    assert code_from_letter(newest)  # and the new code is there, as usual
    assert newest.page_count == 1


def test_an_ordinary_new_letter_carries_no_such_notice(ask):
    person = make_beneficiary()
    with time_machine.travel(START, tick=False) as clock:
        ask(person.nir)
        clock.shift(timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        ask(person.nir)
    for letter in Letter.objects.filter(subject_uid=person.uid):
        assert NOTICE not in letter_text(letter)
        assert "saisies erronées" not in letter_text(letter)


def test_another_number_is_not_held_back_by_a_burnt_code(ask):
    """A third person: someone else's burnt code changes nothing for them."""
    victim, other = make_beneficiary(), make_beneficiary(nir=make_nir())
    with time_machine.travel(START, tick=False) as clock:
        ask(victim.nir)
        wrong_tries(victim.nir, settings.ENROLLMENT_CODE_MAX_FAILURES, clock)
        ask(other.nir)
    assert letters_of(other) == 1
    assert NOTICE not in letter_text(Letter.objects.get(subject_uid=other.uid))
    assert CreationCode.objects.get(beneficiary=other).burned_at is None


def test_the_next_letter_says_the_previous_code_was_tried_many_times(ask):
    person = make_beneficiary()
    with time_machine.travel(START, tick=False) as clock:
        ask(person.nir)
        wrong_tries(person.nir, settings.ENROLLMENT_CODE_FREE_FAILURES, clock)
        tried_on = timezone.localdate(CreationCode.objects.get(beneficiary=person).last_failed_at)
        clock.shift(timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS))
        ask(person.nir)
    newest = Letter.objects.filter(subject_uid=person.uid).latest("requested_at")
    text = " ".join(letter_text(newest).split())
    assert f"plusieurs saisies erronées, la dernière le {french_date(tried_on)}." in text
    assert NOTICE not in text
