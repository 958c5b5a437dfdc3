"""/enrollment/: the NIR typed twice, one answer whatever the registry holds, rate limits."""

from __future__ import annotations

import re
from datetime import date

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from enrollment.models import Beneficiary, CreationCode, EnrollmentRequest, RequestOutcome
from letters.models import Letter, LetterState
from tests.accounts.factories import UserFactory
from tests.enrollment.factories import make_beneficiary, make_nir

pytestmark = pytest.mark.django_db
URL = "/enrollment/"


def ask(client: Client, nir: str, confirmation: str | None = None):
    return client.post(URL, {"nir": nir, "nir_confirmation": confirmation or nir})


@pytest.fixture
def ask_and_process(django_capture_on_commit_callbacks):
    """Ask, then let the queued tasks run (in this process) as the worker would."""

    def run(client: Client, nir: str, confirmation: str | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return ask(client, nir, confirmation)

    return run


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


@pytest.mark.parametrize(
    ("typed", "confirmation", "field", "message"),
    [
        ("1 85 05 78 006", None, "nir", "compte 15 caractères"),
        ("1 85 05 78 006 084 9X", None, "nir", "ne contient que des chiffres"),
        ("1 85 05 78 006 084 92", None, "nir", "La clé"),
        ("1 85 05 78 006 084 91", "1 85 05 78 006 084 19", "nir_confirmation", "différent"),
        ("", None, "nir", "Saisissez votre numéro"),
    ],
)
def test_bad_input_is_explained_in_french_and_changes_nothing(typed, confirmation, field, message):
    response = ask(Client(), typed, confirmation if confirmation is not None else typed)
    assert response.status_code == 200
    errors = " ".join(response.context["form"].errors[field])
    assert message in errors
    if field == "nir" and typed:
        assert "1 85 05 78 006 084 91" in errors  # the message shows an example
    assert "Il y a un problème" in response.content.decode()
    assert not EnrollmentRequest.objects.exists()


def test_spaces_dots_and_dashes_are_accepted_and_two_entries_may_differ_in_form(
    ask_and_process,
):
    person = make_beneficiary(nir="185057800608491")
    response = ask_and_process(Client(), "1.85.05.78.006.084.91", "1-85-05-78-006-084-91")
    assert response.status_code == 200
    assert "Votre demande est enregistrée" in response.content.decode()
    assert Letter.objects.get(subject_uid=person.uid).state == LetterState.RENDERED


def test_the_answer_is_byte_identical_whatever_the_registry_holds():
    eligible = make_nir()
    make_beneficiary(nir=eligible)
    unknown = make_nir()
    child_birth = date(date.today().year - 12, 1, 1)
    minor = make_nir(born=child_birth)
    make_beneficiary(nir=minor, born=child_birth)
    enrolled = make_nir()
    enrolled_person = make_beneficiary(nir=enrolled)
    Beneficiary.objects.filter(pk=enrolled_person.pk).update(patient=UserFactory())

    answers, queries = [], []
    for number in (eligible, unknown, minor, enrolled):
        client = Client()
        client.get(URL)
        with CaptureQueriesContext(connection) as captured:
            response = ask(client, number)
        answers.append((response.status_code, without_csrf(response.content)))
        queries.append(len(captured.captured_queries))
    assert len(set(answers)) == 1
    assert answers[0][0] == 200
    # Comparable work: the web request runs the same queries on every branch.
    assert len(set(queries)) == 1


@pytest.mark.parametrize("place", ["2A004", "2B033", "99350"])
def test_corsica_and_foreign_born_numbers_are_accepted(ask_and_process, place):
    person = make_beneficiary(nir=make_nir(place=place))
    response = ask_and_process(Client(), person.nir)
    assert "Votre demande est enregistrée" in response.content.decode()
    assert Letter.objects.filter(subject_uid=person.uid).exists()


def test_outcomes_decided_in_the_background(django_capture_on_commit_callbacks):
    eligible = make_beneficiary()
    minor_birth = date(date.today().year - 17, 1, 1)
    minor = make_beneficiary(born=minor_birth)
    enrolled = make_beneficiary()
    type(enrolled).objects.filter(pk=enrolled.pk).update(patient=UserFactory())
    for person in (eligible, minor, enrolled):
        with django_capture_on_commit_callbacks(execute=True):
            ask(Client(), person.nir)
    with django_capture_on_commit_callbacks(execute=True):
        ask(Client(), make_nir())
    outcomes = list(EnrollmentRequest.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [
        RequestOutcome.LETTER,
        RequestOutcome.MINOR,
        RequestOutcome.REACTIVATION,
        RequestOutcome.UNKNOWN,
    ]
    # The creation letter, and the reactivation letter of the person whose record exists.
    assert sorted(Letter.objects.values_list("kind", flat=True)) == [
        "creation_code",
        "reactivation_code",
    ]
    assert CreationCode.objects.filter(beneficiary=eligible).count() == 1


def test_a_second_request_while_a_code_is_pending_sends_no_new_letter(ask_and_process):
    person = make_beneficiary()
    ask_and_process(Client(), person.nir)
    ask_and_process(Client(), person.nir)
    assert Letter.objects.filter(subject_uid=person.uid).count() == 1
    assert list(EnrollmentRequest.objects.order_by("pk").values_list("outcome", flat=True)) == [
        RequestOutcome.LETTER,
        RequestOutcome.CODE_PENDING,
    ]


def test_after_the_resend_delay_a_new_letter_replaces_the_code(ask_and_process):
    person = make_beneficiary()
    with time_machine.travel("2026-11-01 10:00 +0100", tick=False) as clock:
        ask_and_process(Client(), person.nir)
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        ask_and_process(Client(REMOTE_ADDR="192.0.2.3"), person.nir)
    codes = list(CreationCode.objects.filter(beneficiary=person).order_by("created_at"))
    assert len(codes) == 2
    assert codes[0].superseded_at is not None and codes[1].superseded_at is None


def test_a_client_asking_too_often_is_told_to_try_later():
    client = Client()
    for _attempt in range(settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR):
        assert ask(client, make_nir()).status_code == 200
    refused = ask(client, make_nir())
    assert refused.status_code == 429
    assert "Réessayez dans" in refused.content.decode()
    assert int(refused["Retry-After"]) > 0
    assert EnrollmentRequest.objects.count() == settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR


def test_requests_for_one_number_are_capped_with_the_same_answer():
    number = make_nir()
    answers = set()
    for attempt in range(settings.ENROLLMENT_REQUESTS_PER_NIR_PER_DAY + 2):
        response = ask(Client(REMOTE_ADDR=f"192.0.2.{attempt + 1}"), number)
        answers.add((response.status_code, without_csrf(response.content)))
    assert len(answers) == 1
    assert EnrollmentRequest.objects.count() == settings.ENROLLMENT_REQUESTS_PER_NIR_PER_DAY


def test_eligibility_page_is_linked_from_home():
    home = Client().get("/").content.decode()
    assert 'href="/enrollment/eligibility/"' in home
    page = Client().get("/enrollment/eligibility/").content.decode()
    assert "représentant légal" in page and "10 jours" in page
