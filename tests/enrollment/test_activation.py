"""/enrollment/activate/: number and code, then password, then the login identifier."""

from __future__ import annotations

import html
import threading

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client

from accounts.models import User
from enrollment.models import Beneficiary, CreationCode
from enrollment.services.activation import ActivationRefused, activate
from letters.models import Letter, LetterState
from letters.services import mark_returned
from tests.accounts.factories import StaffFactory
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.letters.reading import code_from_letter

pytestmark = pytest.mark.django_db
URL = "/enrollment/activate/"
PASSWORD = "une longue phrase de printemps"
REFUSAL = "Ce numéro et ce code ne correspondent à aucun code valide"


@pytest.fixture
def letter_for(django_capture_on_commit_callbacks):
    """Enrol a person and return the code printed in their letter."""

    def run(person: Beneficiary, address: str = "192.0.2.10") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            Client(REMOTE_ADDR=address).post(
                "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
            )
        letter = Letter.objects.filter(subject_uid=person.uid).latest("requested_at")
        return code_from_letter(letter)

    return run


def submit_code(client: Client, nir: str, code: str):
    return client.post(URL, {"nir": nir, "creation_code": code})


def test_activation_creates_the_account_linked_to_the_registry_with_its_data_key(letter_for):
    person = make_beneficiary()
    code = letter_for(person)
    client = Client()
    step1 = submit_code(client, person.nir, code.lower().replace("-", " "))
    assert step1.status_code == 302 and step1["Location"] == URL
    step2 = client.get(URL)
    assert 'name="new_password1"' in step2.content.decode()
    done = client.post(URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 200
    identifier = done.context["identifier"]
    assert f'data-testid="identifier">{identifier}<' in done.content.decode()
    assert "no-store" in done["Cache-Control"]

    user = User.objects.get(username=identifier)
    person = Beneficiary.objects.get(pk=person.pk)
    assert person.patient == user and user.kind == "patient"
    assert user.data_key_id == person.data_key_id
    assert user.check_password(PASSWORD)
    assert CreationCode.objects.get(beneficiary=person).used_at is not None
    # The person then logs in: second-factor setup is next.
    login = Client().post("/accounts/login/", {"username": identifier, "password": PASSWORD})
    assert login["Location"] == "/accounts/2fa/setup/"


def test_wrong_number_wrong_code_used_or_unknown_all_get_the_same_answer(letter_for):
    person = make_beneficiary()
    code = letter_for(person)
    other_code = "7K2Q-D9XW-4MHN"
    answers = []
    for nir, typed in ((person.nir, other_code), (make_nir(), code), (make_nir(), other_code)):
        response = submit_code(Client(REMOTE_ADDR="192.0.2.20"), nir, typed)
        assert response.status_code == 200
        answers.append(response.context["form"].non_field_errors())
    client = Client()
    submit_code(client, person.nir, code)
    client.post(URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    used = submit_code(Client(), person.nir, code)
    answers.append(used.context["form"].non_field_errors())
    assert all(answer == answers[0] for answer in answers)
    assert REFUSAL in answers[0][0]


def test_an_expired_code_is_refused_with_the_same_answer(letter_for):
    person = make_beneficiary()
    with time_machine.travel("2026-01-05 09:00 +0100", tick=False) as clock:
        code = letter_for(person)
        clock.shift(86400 * (settings.ENROLLMENT_CODE_VALIDITY_DAYS + 1))
        response = submit_code(Client(), person.nir, code)
    assert REFUSAL in response.content.decode()


def test_a_newer_code_replaces_the_older_one(letter_for):
    person = make_beneficiary()
    with time_machine.travel("2026-01-05 09:00 +0100", tick=False) as clock:
        first = letter_for(person)
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        second = letter_for(person, address="192.0.2.11")
        assert first != second
        assert REFUSAL in submit_code(Client(), person.nir, first).content.decode()
        assert submit_code(Client(), person.nir, second).status_code == 302


def test_wrong_tries_slow_down_after_five_and_burn_the_code_at_ten(letter_for):
    person = make_beneficiary()
    code = letter_for(person)
    with time_machine.travel("2026-11-28 10:00 +0100", tick=False) as clock:
        for attempt in range(settings.ENROLLMENT_CODE_FREE_FAILURES):
            response = submit_code(
                Client(REMOTE_ADDR=f"192.0.2.{attempt + 30}"), person.nir, "0000-0000-0000"
            )
            assert response.status_code == 200
        slowed = submit_code(Client(REMOTE_ADDR="192.0.2.50"), person.nir, code)
        assert slowed.status_code == 429  # even the right code waits: the delay has begun
        for attempt in range(
            settings.ENROLLMENT_CODE_MAX_FAILURES - settings.ENROLLMENT_CODE_FREE_FAILURES
        ):
            clock.shift(60 * 2**attempt + 1)  # wait out the growing delay each time
            assert (
                submit_code(
                    Client(REMOTE_ADDR=f"192.0.2.{attempt + 60}"), person.nir, "0000-0000-0000"
                ).status_code
                == 200
            )
        clock.shift(3600 * 24)
        burned = submit_code(Client(REMOTE_ADDR="192.0.2.90"), person.nir, code)
    assert REFUSAL in burned.content.decode()
    assert CreationCode.objects.get(beneficiary=person).burned_at is not None


def test_guessing_an_unknown_number_is_slowed_the_same_way():
    number = make_nir()
    with time_machine.travel("2026-11-28 10:00 +0100", tick=False):
        for attempt in range(settings.ENROLLMENT_CODE_FREE_FAILURES):
            submit_code(Client(REMOTE_ADDR=f"192.0.2.{attempt + 30}"), number, "0000-0000-0000")
        assert (
            submit_code(Client(REMOTE_ADDR="192.0.2.99"), number, "0000-0000-0000").status_code
            == 429
        )


@pytest.mark.parametrize(
    ("typed", "message"),
    [("7K2Q-D9XW", "vous en avez saisi 8"), ("7K2Q-D9XW-4MH!", "XXXX-XXXX-XXXX")],
)
def test_a_malformed_code_is_explained_and_counts_for_nothing(letter_for, typed, message):
    person = make_beneficiary()
    code = letter_for(person)
    for _attempt in range(settings.ENROLLMENT_CODE_FREE_FAILURES + 2):
        response = submit_code(Client(), person.nir, typed)
        assert message in " ".join(response.context["form"].errors["creation_code"])
    assert CreationCode.objects.get(beneficiary=person).failed_attempts == 0
    assert submit_code(Client(), person.nir, code).status_code == 302  # no delay was started


def test_the_delay_stops_growing_and_a_new_letter_clears_it(letter_for):
    person = make_beneficiary()
    with time_machine.travel("2026-11-28 10:00 +0100", tick=False) as clock:
        letter_for(person)
        for attempt in range(30):  # a stranger keeps guessing, waiting each delay out
            response = submit_code(
                Client(REMOTE_ADDR=f"198.51.100.{attempt}"), person.nir, "0000-0000-0000"
            )
            if response.status_code == 429:
                assert int(response["Retry-After"]) <= 3600
                clock.shift(int(response["Retry-After"]) + 1)
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        new_code = letter_for(person, address="192.0.2.77")
        # The person's new letter works at once, whatever the stranger did before.
        response = submit_code(Client(REMOTE_ADDR="192.0.2.78"), person.nir, new_code)
        assert response.status_code == 302


def test_code_tries_from_one_connection_are_limited():
    client = Client(REMOTE_ADDR="203.0.113.50")
    for _attempt in range(settings.ENROLLMENT_CODE_TRIES_PER_CLIENT):
        assert submit_code(client, make_nir(), "0000-0000-0000").status_code == 200
    refused = submit_code(client, make_nir(), "0000-0000-0000")
    assert refused.status_code == 429
    assert "Réessayez dans" in refused.content.decode()


def test_a_returned_letter_stops_its_code(letter_for):
    person = make_beneficiary()
    code = letter_for(person)
    letter = Letter.objects.get(subject_uid=person.uid)
    Letter.objects.filter(pk=letter.pk).update(state=LetterState.DISPATCHED)
    assert mark_returned(StaffFactory(), [letter.pk]) == 1
    assert REFUSAL in submit_code(Client(), person.nir, code).content.decode()


def test_a_password_with_the_nir_or_birth_date_is_refused(letter_for):
    person = make_beneficiary()
    code = letter_for(person)
    client = Client()
    submit_code(client, person.nir, code)
    for weak in (f"secret {person.nir[:13]} ici", "née le 14/05/1985 à Paris", "léa dupont lyon"):
        response = client.post(URL, {"new_password1": weak, "new_password2": weak})
        # On the field where the password is chosen, not on its confirmation.
        assert "sécurité sociale" in str(response.context["form"].errors["new_password1"])
        assert "new_password2" not in response.context["form"].errors
    assert not User.objects.filter(kind="patient").exists()
    assert CreationCode.objects.get(beneficiary=person).used_at is None


def test_the_password_rules_are_said_once_as_the_help_of_the_first_field(letter_for):
    person = make_beneficiary()
    client = Client()
    page = submit_code(client, person.nir, letter_for(person))
    page = client.get(URL) if page.status_code == 302 else page
    text = html.unescape(page.content.decode())
    assert text.count("12 caractères") == 1 and text.count("sécurité sociale") == 1
    assert 'aria-describedby="id_new_password1_hint' in text
    assert "Saisissez le même mot de passe" not in text  # Django's default help, repeated


def test_the_password_step_needs_the_code_step_first():
    response = Client().post(URL, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert response.status_code == 200
    assert 'name="creation_code"' in response.content.decode()
    assert not User.objects.filter(kind="patient").exists()


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_activations_with_one_code_create_one_account(
    django_capture_on_commit_callbacks,
) -> None:
    person = make_beneficiary()
    with django_capture_on_commit_callbacks(execute=True):
        Client().post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    code_id = CreationCode.objects.get(beneficiary=person).pk
    barrier = threading.Barrier(2)
    results: list[object] = []

    def attempt():
        barrier.wait()
        try:
            results.append(activate(code_id, PASSWORD))
        except ActivationRefused as refusal:
            results.append(refusal)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(type(result).__name__ for result in results) == ["ActivationRefused", "User"]
    assert User.objects.filter(kind="patient").count() == 1
