"""Reactivation codes that open nothing: wrong, expired, used, superseded, burned or another
number's get the one answer of creation codes, every step is throttled, and nothing changes."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from accounts.devices import TOTPDevice
from accounts.models import User
from audit.models import Action, AuditEvent
from enrollment.models import Beneficiary, CreationCode
from enrollment.postal import build_address
from enrollment.services.registry_changes import current_values, decide_change, propose_change
from letters.models import Letter, LetterState
from tests.accounts.factories import StaffFactory, add_totp
from tests.enrollment.factories import (
    NEW_PASSWORD,
    PASSWORD,
    REFUSAL,
    make_beneficiary,
    submit_code,
)
from tests.letters.reading import code_from_letter

pytestmark = pytest.mark.django_db
# After the record was opened (at the real time): letters are told apart by when they were
# asked for.
LATER = datetime.now(tz=UTC).replace(hour=8, minute=0) + timedelta(days=30)


def unchanged(user: User, device: TOTPDevice) -> bool:
    """The account is as it was: its password, its authenticator app, no reactivation."""
    user = User.objects.get(pk=user.pk)
    return (
        user.check_password(PASSWORD)
        and TOTPDevice.objects.filter(pk=device.pk, confirmed=True).exists()
        and not AuditEvent.objects.filter(patient=user, action=Action.REACTIVATE).exists()
    )


@pytest.fixture
def patient(enrolled):
    person = make_beneficiary()
    user = enrolled(person)
    return person, user, add_totp(user)


def refusal_of(response) -> str:
    assert response.status_code == 200
    return " ".join(response.context["form"].non_field_errors())


def test_a_wrong_code_and_another_numbers_code_get_the_creation_codes_answer(patient, posted_code):
    person, user, device = patient
    code = posted_code(person)
    other = make_beneficiary()
    other_code = posted_code(other, address="192.0.2.12")  # a creation code, for another person
    answers = {
        refusal_of(submit_code(Client(REMOTE_ADDR="192.0.2.20"), person.nir, "7K2Q-D9XW-4MHN")),
        refusal_of(submit_code(Client(REMOTE_ADDR="192.0.2.21"), person.nir, other_code)),
        refusal_of(submit_code(Client(REMOTE_ADDR="192.0.2.22"), other.nir, code)),
    }
    assert len(answers) == 1 and REFUSAL in answers.pop()
    assert unchanged(user, device)
    # The other person's creation code still opens their own record only.
    assert not User.objects.exclude(pk=user.pk).filter(kind="patient").exists()


def test_a_used_reactivation_code_gets_the_same_answer(patient, posted_code, open_with):
    person, user, _device = patient
    code = posted_code(person)
    open_with(person, code, NEW_PASSWORD)
    again = submit_code(Client(REMOTE_ADDR="192.0.2.30"), person.nir, code)
    assert REFUSAL in refusal_of(again)
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


def test_an_expired_reactivation_code_gets_the_same_answer(patient, posted_code):
    person, user, device = patient
    with time_machine.travel(LATER, tick=False) as clock:
        code = posted_code(person)
        clock.shift(86400 * (settings.ENROLLMENT_CODE_VALIDITY_DAYS + 1))
        response = submit_code(Client(), person.nir, code)
    assert REFUSAL in refusal_of(response)
    assert unchanged(user, device)


def test_a_newer_reactivation_letter_supersedes_the_older_code(patient, posted_code):
    person, user, device = patient
    with time_machine.travel(LATER, tick=False) as clock:
        first = posted_code(person)
        clock.shift(86400 * (settings.ENROLLMENT_RESEND_DELAY_DAYS + 1))
        second = posted_code(person, address="192.0.2.11")
        assert first != second
        assert REFUSAL in refusal_of(submit_code(Client(), person.nir, first))
        assert unchanged(user, device)
        assert submit_code(Client(), person.nir, second).status_code == 302


def test_a_second_request_while_a_reactivation_letter_is_pending_sends_none(patient, posted_code):
    person, _user, _device = patient
    posted_code(person)
    posted_code(person, address="192.0.2.13")
    assert CreationCode.objects.filter(beneficiary=person, purpose="reactivation").count() == 1


def test_wrong_tries_burn_a_reactivation_code_and_change_nothing(patient, posted_code):
    person, user, device = patient
    code = posted_code(person)
    with time_machine.travel(LATER, tick=False) as clock:
        for attempt in range(settings.ENROLLMENT_CODE_MAX_FAILURES):
            response = submit_code(
                Client(REMOTE_ADDR=f"192.0.2.{attempt + 40}"), person.nir, "0000-0000-0000"
            )
            if response.status_code == 429:  # the delay after the free tries: wait it out
                clock.shift(int(response["Retry-After"]) + 1)
                response = submit_code(
                    Client(REMOTE_ADDR=f"192.0.2.{attempt + 40}"), person.nir, "0000-0000-0000"
                )
            assert response.status_code == 200
        clock.shift(86400)
        burned = submit_code(Client(REMOTE_ADDR="192.0.2.99"), person.nir, code)
    assert REFUSAL in refusal_of(burned)
    assert CreationCode.objects.filter(beneficiary=person).latest("created_at").burned_at
    assert unchanged(user, device)


def test_every_step_is_throttled_per_connection(patient):
    person, user, device = patient
    asker = Client(REMOTE_ADDR="203.0.113.70")
    for _attempt in range(settings.ENROLLMENT_REQUESTS_PER_CLIENT_PER_HOUR):
        asker.post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    asked = asker.post("/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir})
    assert asked.status_code == 429 and "Retry-After" in asked
    guesser = Client(REMOTE_ADDR="203.0.113.71")
    for attempt in range(settings.ENROLLMENT_CODE_TRIES_PER_CLIENT):
        submit_code(guesser, person.nir, f"0000-0000-{attempt:04d}")
    assert submit_code(guesser, person.nir, "0000-0000-0000").status_code == 429
    assert unchanged(user, device)


def test_a_third_person_with_their_own_letter_cannot_reactivate_someone_else(
    patient, enrolled, posted_code
):
    """Charlie has a record and a reactivation letter of his own: with it, the patient's number
    opens nothing, and neither account changes."""
    person, user, device = patient
    charlie_person = make_beneficiary()
    charlie = enrolled(charlie_person)
    charlie_code = posted_code(charlie_person, address="192.0.2.14")
    response = submit_code(Client(REMOTE_ADDR="192.0.2.15"), person.nir, charlie_code)
    assert REFUSAL in refusal_of(response)
    assert unchanged(user, device)
    assert User.objects.get(pk=charlie.pk).check_password(PASSWORD)
    assert CreationCode.objects.filter(beneficiary=charlie_person).live().count() == 1


def test_a_confirmed_move_stops_a_reactivation_code_and_redirects_its_letter(
    patient, posted_code, django_capture_on_commit_callbacks
):
    """A reactivation code must reach only the address the registry now holds, as a creation
    code must: the old one stops working and a new letter goes to the new address."""
    person, user, device = patient
    old_code = posted_code(person)
    values = current_values(Beneficiary.objects.select_related("data_key").get(pk=person.pk))
    values["address"] = build_address(
        first_name="Léa",
        last_name="Dupont",
        delivery_point="",
        building="",
        street="8 quai du Port",
        locality="",
        postcode="13001",
        city="Marseille",
        country="",
    ).as_json()
    change = propose_change(StaffFactory(), person.pk, values)
    with django_capture_on_commit_callbacks(execute=True):
        decide_change(StaffFactory(), change.pk, confirm=True)
    assert REFUSAL in refusal_of(submit_code(Client(), person.nir, old_code))
    assert unchanged(user, device)
    new_letter = Letter.objects.filter(
        subject_uid=person.uid, kind="reactivation_code", state=LetterState.RENDERED
    ).get()
    assert new_letter.postal["postcode"] == "13001"
    assert submit_code(Client(), person.nir, code_from_letter(new_letter)).status_code == 302


def test_the_code_page_names_no_creation_code_to_the_holder_of_a_reactivation_letter(
    patient, posted_code
):
    """One field for both letters: its label, its errors and the refusal say « code », never
    « code de création » (the reactivation letter prints « code de réactivation »)."""
    person, _user, _device = patient
    page = html.unescape(Client().get("/enrollment/activate/").content.decode())
    label = "Code figurant sur le courrier (12 caractères, sous la forme XXXX-XXXX-XXXX)"
    assert page.count(label) == 1 and page.count("XXXX-XXXX-XXXX") == 1
    empty = Client().post("/enrollment/activate/", {"nir": person.nir, "creation_code": ""})
    short = submit_code(Client(), person.nir, "7K2Q-D9XW")
    wrong = submit_code(Client(), person.nir, "7K2Q-D9XW-4MHN")
    assert empty.context["form"].errors["creation_code"] == [
        "Saisissez le code imprimé sur le courrier."
    ]
    assert (
        "Le code compte 12 lettres et chiffres" in short.context["form"].errors["creation_code"][0]
    )
    assert refusal_of(wrong) == (
        "Ce numéro et ce code ne correspondent à aucun code valide. Vérifiez votre saisie ou "
        "demandez un nouveau courrier."
    )
    for response in (empty, short, wrong):
        assert "création" not in str(response.context["form"].errors)
    # The page's own introduction names both letters' codes, the same for everyone.
    assert "création" not in page.split(label)[0].rsplit("<form", 1)[1]
