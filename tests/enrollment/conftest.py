"""Fixtures of the enrolment tests: a person who asks on /enrollment/ and reads their letter,
and a person whose record was opened that way (the tasks run in this process, as the worker
would run them)."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from enrollment.models import Beneficiary
from enrollment.services.registry import CODE_LETTERS
from letters.models import Letter
from tests.enrollment.factories import ACTIVATE_URL, PASSWORD, submit_code
from tests.letters.reading import code_from_letter


@pytest.fixture
def posted_code(django_capture_on_commit_callbacks):
    """Ask on /enrollment/ for this person; the code printed in the letter that went out."""

    def run(person: Beneficiary, address: str = "192.0.2.10") -> str:
        with django_capture_on_commit_callbacks(execute=True):
            Client(REMOTE_ADDR=address).post(
                "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
            )
        letter = Letter.objects.filter(subject_uid=person.uid, kind__in=CODE_LETTERS).latest(
            "requested_at"
        )
        return code_from_letter(letter)

    return run


@pytest.fixture
def open_with(django_capture_on_commit_callbacks):
    """Type the number and code, then a password, on /enrollment/activate/; the last page."""

    def run(person: Beneficiary, code: str, password: str = PASSWORD, address: str = "192.0.2.9"):
        client = Client(REMOTE_ADDR=address)
        step = submit_code(client, person.nir, code)
        if step.status_code != 302:
            return step
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(ACTIVATE_URL, {"new_password1": password, "new_password2": password})

    return run


@pytest.fixture
def enrolled(posted_code, open_with):
    """A person of the registry whose record was opened with their creation letter."""

    def run(person: Beneficiary) -> User:
        done = open_with(person, posted_code(person))
        return User.objects.get(username=done.context["identifier"])

    return run
