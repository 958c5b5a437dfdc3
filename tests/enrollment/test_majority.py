"""Coming of age (issue 17, item 5): on the 18th birthday the daily task ends the legal
representations and asks for the young adult's letter; its code, at /enrollment/activate/,
gives the account its first password and the young adult their record, kept whole."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils.module_loading import import_string
from pypdf import PdfReader

from access_control import policy
from access_control.models import Consent, LegalRepresentation, RepresentationEndReason
from accounts.models import User
from audit.models import Action, AuditEvent, Outcome
from enrollment.models import (
    Beneficiary,
    CodePurpose,
    CreationCode,
    EnrollmentRequest,
    RequestOutcome,
)
from enrollment.postal import build_address
from enrollment.services import majority
from enrollment.services.registry_changes import current_values, decide_change, propose_change
from enrollment.views import VERIFIED_CODE
from letters.models import Letter, LetterState
from records.models import Document
from tests.accounts.factories import (
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    logged_in_client,
)
from tests.enrollment.coming_of_age import make_child, represent
from tests.enrollment.factories import (
    ACTIVATE_URL,
    PASSWORD,
    REFUSAL,
    submit_code,
)
from tests.letters.reading import code_from_letter, letter_pdf, letter_text
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db

BORN = date(2008, 12, 1)
BIRTHDAY = "2026-12-01"  # the 18th
DAY_BEFORE = "2026-11-30"


def at(day: str, hour: str = "09:00"):
    """A frozen clock on that day, Paris time (winter)."""
    return time_machine.travel(f"{day} {hour} +0100", tick=False)


@pytest.fixture(autouse=True)
def _the_eve():
    """Every test starts on the eve of the birthday, whatever the day it runs: the child is a
    minor until a test moves the clock (``at``)."""
    with time_machine.travel(f"{DAY_BEFORE} 09:00 +0100", tick=True):
        yield


@pytest.fixture
def family():
    """A child with two legal representatives, a document a parent added, a consent to a
    practitioner."""
    person, child = make_child(BORN)
    mother, father = UserFactory(kind="patient"), UserFactory(kind="patient")
    represent(child, mother, father)
    document = add_document(child, title="Carnet de vaccination")
    doctor = PractitionerProfileFactory.create(last_name="Vasseur-Kerbrat")
    Consent.objects.create(patient=child, practitioner=doctor.user)
    return person, child, mother, father, document, doctor


def run_beat(django_capture_on_commit_callbacks) -> int:
    """The beat's daily task as the worker runs it (the per-child tasks inline), and the
    letters it asks for rendered."""
    task = str(settings.CELERY_BEAT_SCHEDULE["end-representations-at-majority"]["task"])
    with django_capture_on_commit_callbacks(execute=True):
        return import_string(task)()


def majority_letters(person: Beneficiary) -> list[Letter]:
    return list(Letter.objects.filter(subject_uid=person.uid, kind="majority_code"))


def may_act(representative: User, child: User) -> bool:
    """The door, asked as item 3's switch will ask it: acting for the child."""
    with transaction.atomic():
        return policy.authorize(representative, child, Action.LIST, acting_for=True).allowed


def test_the_beat_runs_the_task_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["end-representations-at-majority"]
    assert entry == {"task": "enrollment.tasks.queue_majorities", "schedule": 86400.0}


def test_representations_end_on_the_birthday_and_not_the_day_before(
    family, django_capture_on_commit_callbacks
):
    person, child, mother, father, *_rest = family
    with at(DAY_BEFORE, "23:59"):
        assert run_beat(django_capture_on_commit_callbacks) == 0
        assert may_act(mother, child)
    assert LegalRepresentation.objects.live().filter(minor=child).count() == 2
    assert majority_letters(person) == []

    with at(BIRTHDAY, "00:05"):
        assert run_beat(django_capture_on_commit_callbacks) == 1
    ended = LegalRepresentation.objects.filter(minor=child)
    assert {(row.ended_reason, row.ended_at is not None) for row in ended} == {
        (RepresentationEndReason.MAJORITY, True)
    }
    assert ended.count() == 2
    # One event per representation ended, on the young adult's chain, in no one's name.
    events = AuditEvent.objects.filter(action=Action.END_REPRESENTATION)
    assert [(e.patient_id, e.actor_id, e.outcome, e.reason) for e in events] == [
        (child.pk, None, Outcome.ALLOWED, "majority")
    ] * 2
    # The former representatives are refused on their very next request.
    assert not may_act(mother, child) and not may_act(father, child)
    refusal = AuditEvent.objects.filter(actor=mother, action=Action.LIST).latest("id")
    assert refusal.outcome == Outcome.REFUSED and refusal.patient_id == child.pk
    # The letter: asked for once, rendered, with a takeover code.
    (letter,) = majority_letters(person)
    assert letter.state == LetterState.RENDERED
    code = CreationCode.objects.filter(beneficiary=person).live().get()
    assert code.purpose == CodePurpose.MAJORITY


def test_the_task_is_idempotent_and_asks_for_one_letter(family, django_capture_on_commit_callbacks):
    person, child, *_rest = family
    with at(BIRTHDAY):
        assert run_beat(django_capture_on_commit_callbacks) == 1
        assert run_beat(django_capture_on_commit_callbacks) == 0
        # A task queued twice (the beat ran twice before the worker): the second does nothing.
        with django_capture_on_commit_callbacks(execute=True):
            assert majority.come_of_age(child.pk) is False
    assert len(majority_letters(person)) == 1
    assert AuditEvent.objects.filter(action=Action.END_REPRESENTATION).count() == 2
    assert CreationCode.objects.filter(beneficiary=person).count() == 1


def test_a_birthday_the_beat_missed_is_caught_up_at_its_next_run(
    family, django_capture_on_commit_callbacks
):
    person, child, mother, *_rest = family
    with at("2026-12-09"):  # the beat did not run for a week
        assert run_beat(django_capture_on_commit_callbacks) == 1
    assert not LegalRepresentation.objects.live().filter(minor=child).exists()
    assert len(majority_letters(person)) == 1
    assert not may_act(mother, child)


def test_only_children_of_age_are_due_and_a_29_february_birthday_is_1_march():
    _person, leap = make_child(born=date(2008, 2, 29))
    _other, younger = make_child(born=date(2010, 6, 1))
    adult_without_representative = make_child(born=date(1990, 1, 1))[1]
    parent = UserFactory(kind="patient")
    for child in (leap, younger):
        represent(child, parent)
    assert majority.due_minors(date(2026, 2, 28)) == []
    assert majority.due_minors(date(2026, 3, 1)) == [leap.pk]
    assert adult_without_representative.pk not in majority.due_minors(date(2030, 1, 1))
    assert set(majority.due_minors(date(2030, 1, 1))) == {leap.pk, younger.pk}


def test_the_letter_goes_to_the_young_adult_in_their_own_name_with_a_code_as_text(
    family, django_capture_on_commit_callbacks
):
    person, *_rest = family
    with at(BIRTHDAY):
        run_beat(django_capture_on_commit_callbacks)
    (letter,) = majority_letters(person)
    text = " ".join(letter_text(letter).split())
    assert "I MARTIN" in text or "Inès MARTIN" in text  # the address's first line: their name
    assert "code de reprise" in text and "Vous avez atteint la majorité" in text
    assert "pas même à vos anciens représentants légaux" in text
    assert f"{settings.DMP_SITE_URL}/enrollment/activate/" in text
    assert code_from_letter(letter)  # printed as text
    page = PdfReader(io.BytesIO(letter_pdf(letter))).pages[0]
    assert "/XObject" not in page["/Resources"]  # never a QR code, no image at all
    assert person.nir not in text and person.nir.replace(" ", "") not in text


@pytest.fixture
def of_age(family, django_capture_on_commit_callbacks):
    """The family the day after the 18th birthday, the beat run, the code from the letter."""
    person, child, mother, father, document, doctor = family
    with at(BIRTHDAY):
        run_beat(django_capture_on_commit_callbacks)
    code = code_from_letter(majority_letters(person)[0])
    return person, child, mother, father, document, doctor, code


def test_the_young_adult_takes_over_with_the_code_and_finds_everything_kept(
    of_age, django_capture_on_commit_callbacks
):
    person, child, mother, _father, document, doctor, code = of_age
    upload_events = AuditEvent.objects.filter(patient=child, action=Action.UPLOAD).count()
    young = Client(REMOTE_ADDR="192.0.2.18")
    assert submit_code(young, person.nir, code).status_code == 302
    step = young.get(ACTIVATE_URL)
    assert "enrollment/takeover_password.html" in [t.name for t in step.templates]
    assert 'name="new_password1"' in step.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        done = young.post(ACTIVATE_URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 200
    assert [t.name for t in done.templates][0] == "enrollment/taken_over.html"
    assert f'data-testid="identifier">{child.username}<' in done.content.decode()

    child = User.objects.get(pk=child.pk)
    assert child.check_password(PASSWORD) and child.is_active
    assert child.data_key_id == person.data_key_id
    event = AuditEvent.objects.get(patient=child, action=Action.TAKE_OVER)
    assert event.actor_id is None and event.outcome == Outcome.ALLOWED
    assert CreationCode.objects.filter(beneficiary=person).live().count() == 0
    # The notice of the takeover is posted too (no code in it); no e-mail.
    notice = Letter.objects.get(subject_uid=person.uid, kind="majority_notice")
    notice_text = " ".join(letter_text(notice).split())
    assert "repris le" in notice_text and code not in notice_text

    # Documents, consents and history are kept.
    assert Document.objects.filter(pk=document.pk, patient=child).exists()
    assert Consent.objects.filter(
        patient=child, practitioner=doctor.user, revoked_at__isnull=True
    ).exists()
    assert AuditEvent.objects.filter(patient=child, action=Action.UPLOAD).count() == upload_events

    # The young adult logs in with the identifier and the new password: the second factor's
    # setup comes first, then their record.
    login = Client().post("/accounts/login/", {"username": child.username, "password": PASSWORD})
    assert login["Location"] == "/accounts/2fa/setup/"
    browser = logged_in_client(child, add_totp(child))
    assert "Carnet de vaccination" in browser.get("/records/").content.decode()
    assert "Vasseur-Kerbrat" in browser.get("/access/").content.decode()
    others = browser.get("/access/history/").context["page"].object_list
    assert {"end-representation", "take-over"} <= {row.action for row in others}
    mine = browser.get("/access/history/", {"show": "mine"}).context["page"].object_list
    assert "upload" in {row.action for row in mine}
    assert not may_act(mother, child)


def test_a_wrong_code_gets_the_one_answer_and_counts(of_age):
    person, child, *_rest, code = of_age
    wrong = "0000-0000-0000" if code != "0000-0000-0000" else "1111-1111-1111"
    page = submit_code(Client(), person.nir, wrong)
    assert page.status_code == 200 and REFUSAL in page.content.decode()
    live = CreationCode.objects.filter(beneficiary=person).live().get()
    assert live.failed_attempts == 1
    assert not User.objects.get(pk=child.pk).has_usable_password()


def test_wrong_tries_burn_the_takeover_code(of_age):
    person, *_rest, code = of_age
    live = CreationCode.objects.filter(beneficiary=person).live().get()
    CreationCode.objects.filter(pk=live.pk).update(
        failed_attempts=settings.ENROLLMENT_CODE_MAX_FAILURES - 1
    )
    submit_code(Client(), person.nir, "0000-0000-0001")
    assert CreationCode.objects.get(pk=live.pk).burned_at is not None
    page = submit_code(Client(REMOTE_ADDR="192.0.2.77"), person.nir, code)
    assert page.status_code == 200 and REFUSAL in page.content.decode()


def test_a_representative_signed_in_is_refused_the_young_adults_code(
    of_age, django_capture_on_commit_callbacks
):
    person, child, mother, *_rest, code = of_age
    parent = logged_in_client(mother)
    page = submit_code(parent, person.nir, code)
    assert page.status_code == 200 and REFUSAL in page.content.decode()
    live = CreationCode.objects.filter(beneficiary=person).live().get()
    assert live.failed_attempts == 1 and live.used_at is None  # counted as a wrong try
    refused = AuditEvent.objects.filter(action=Action.ACTIVATE, outcome=Outcome.REFUSED)
    assert refused.get().reason == "bad-code"
    child = User.objects.get(pk=child.pk)
    assert not child.has_usable_password()
    assert not may_act(mother, child)

    # A code checked before signing in, its password sent from within the session: refused
    # all the same (the session as the first step leaves it, in the parent's signed-in one).
    session = parent.session
    session[VERIFIED_CODE] = (live.pk, time.time())
    session.save()
    with django_capture_on_commit_callbacks(execute=True):
        again = parent.post(ACTIVATE_URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert again.context["refused"] is True
    assert not User.objects.get(pk=child.pk).has_usable_password()
    assert CreationCode.objects.get(pk=live.pk).used_at is None

    # The young adult, on their own, still takes over with it.
    young = Client()
    assert submit_code(young, person.nir, code).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        young.post(ACTIVATE_URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert User.objects.get(pk=child.pk).check_password(PASSWORD)


def test_a_third_user_is_refused_and_changes_nothing(of_age):
    person, child, mother, father, document, doctor, code = of_age
    third = UserFactory(kind="patient")
    stranger = logged_in_client(third)
    before = (
        list(LegalRepresentation.objects.values_list("pk", "ended_at", "ended_reason")),
        list(Document.objects.values_list("pk", "status")),
        list(Consent.objects.values_list("pk", "revoked_at")),
        User.objects.get(pk=child.pk).password,
    )
    page = submit_code(stranger, person.nir, code)
    assert page.status_code == 200 and REFUSAL in page.content.decode()
    assert not may_act(third, child)
    after = (
        list(LegalRepresentation.objects.values_list("pk", "ended_at", "ended_reason")),
        list(Document.objects.values_list("pk", "status")),
        list(Consent.objects.values_list("pk", "revoked_at")),
        User.objects.get(pk=child.pk).password,
    )
    assert before == after
    assert CreationCode.objects.filter(beneficiary=person).live().get().used_at is None


def test_no_letter_for_a_record_closed_for_good(family, django_capture_on_commit_callbacks):
    person, child, *_rest = family
    User.objects.filter(pk=child.pk).update(is_active=False)  # as a recorded death leaves it
    with at(BIRTHDAY):
        run_beat(django_capture_on_commit_callbacks)
    assert not LegalRepresentation.objects.live().filter(minor=child).exists()
    assert majority_letters(person) == []


def test_a_takeover_letter_on_its_way_holds_back_another_letter(
    family, django_capture_on_commit_callbacks
):
    """The young adult asking on /enrollment/ while their takeover letter is still to be
    rendered gets the same page and no second letter (a code on its way)."""
    person, child, *_rest = family
    with at(BIRTHDAY), django_capture_on_commit_callbacks(execute=False):
        assert majority.come_of_age(child.pk) is True  # the rendering task not run yet
    (letter,) = majority_letters(person)
    assert letter.state == LetterState.REQUESTED
    with at(BIRTHDAY, "10:00"), django_capture_on_commit_callbacks(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    assert EnrollmentRequest.objects.get().outcome == RequestOutcome.CODE_PENDING
    assert Letter.objects.filter(subject_uid=person.uid).count() == 1


def test_a_confirmed_move_sends_the_takeover_letter_again_to_the_new_address(
    of_age, django_capture_on_commit_callbacks
):
    person, child, *_rest, old_code = of_age
    values = current_values(Beneficiary.objects.select_related("data_key").get(pk=person.pk))
    values["address"] = build_address(
        first_name="Inès",
        last_name="Martin",
        delivery_point="",
        building="",
        street="8 quai du Port",
        locality="",
        postcode="13001",
        city="Marseille",
        country="",
    ).as_json()
    with at(BIRTHDAY, "10:00"):
        change = propose_change(StaffFactory(), person.pk, values)
        with django_capture_on_commit_callbacks(execute=True):
            decide_change(StaffFactory(), change.pk, confirm=True)
    assert REFUSAL in submit_code(Client(), person.nir, old_code).content.decode()
    new_letter = Letter.objects.filter(
        subject_uid=person.uid, kind="majority_code", state=LetterState.RENDERED
    ).latest("requested_at")
    assert new_letter.postal["postcode"] == "13001"
    assert not Letter.objects.filter(subject_uid=person.uid, kind="reactivation_code").exists()
    young = Client()
    assert submit_code(young, person.nir, code_from_letter(new_letter)).status_code == 302
    assert "enrollment/takeover_password.html" in [
        t.name for t in young.get(ACTIVATE_URL).templates
    ]
