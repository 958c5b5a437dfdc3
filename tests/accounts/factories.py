from __future__ import annotations

import re
import time

import factory
from django.conf import settings
from django.core import mail
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH
from django.test import Client
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_otp.models import Device
from stdnum import luhn

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import (
    ContactEmail,
    ContactEmailChange,
    PractitionerProfile,
    Profession,
    User,
    UserKind,
)
from accounts.services.contact_email import confirm_contact_email, send_confirmation

# The benchmarks' builders are the tests' too: one copy of each, in bench/world.py.
from bench.world import add_totp as add_totp
from bench.world import totp_token, verified_client
from tests.accounts.passkey_factories import add_passkey

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n:05d}")
    kind = UserKind.PATIENT
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.fr")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(self, create, extracted, **kwargs):
        if create:
            self.save()


class StaffFactory(UserFactory):
    kind = UserKind.STAFF
    is_staff = True
    is_superuser = True


class PractitionerProfileFactory(factory.django.DjangoModelFactory[PractitionerProfile]):
    class Meta:
        model = PractitionerProfile

    user = factory.SubFactory(UserFactory, kind=UserKind.PRACTITIONER)
    rpps = factory.Sequence(lambda n: _with_luhn(f"1{n:09d}"))
    last_name = "Durand"
    first_name = "Camille"
    profession = Profession.MEDECIN
    specialty = "Médecine générale"


def _with_luhn(partial: str) -> str:
    return partial + luhn.calc_check_digit(partial)


def add_backup_codes(user: User, count: int = 10) -> list[str]:
    device = BackupCodeDevice.objects.create(user=user, name="backup", confirmed=True)
    return device.regenerate(count)


def next_totp_token(device: TOTPDevice) -> str:
    """The next code the device accepts after a login: a code works once, so the step after the
    last one used, or the current step if the clock has moved on since. (Always "the next 30
    seconds" failed when a login straddled a step boundary: the device then records a drift of
    -1 and the step after next is out of its window.)"""
    device.refresh_from_db()
    step = max(int(time.time()) // device.step, device.last_t + 1)
    return totp_token(device, at=step * device.step)


def password_only_client(user: User) -> Client:
    """A test client past the password step only (no verified device), as the login page's
    first step leaves it: Django's session login and the new CSRF cookie that login() rotates.
    The second-factor gate sends it back to the login page, or to the setup of a first
    authenticator app."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.CSRF_COOKIE_NAME] = get_random_string(
        CSRF_SECRET_LENGTH, CSRF_ALLOWED_CHARS
    )
    return client


def logged_in_client(user: User, device: Device | None = None) -> Client:
    """A test client past both factors for ``user``, with ``device`` (when none is given, a new
    TOTP device, or for staff a new passkey, which the admin requires), as the login page's two
    steps leave it: the login's own writes replayed without the forms
    (``bench.world.verified_client``; tests/accounts/test_login.py compares it with the real
    login). Only the tests of login itself go through the two forms."""
    if device is None and user.kind == UserKind.STAFF:
        device, _authenticator = add_passkey(user)
    return verified_client(user, device)  # type: ignore[arg-type]  # any django-otp device


def verified_staff_client() -> Client:
    """A staff member (the admin's user) logged in past both factors."""
    return logged_in_client(StaffFactory.create())


def confirm_pending_emails() -> None:
    """Follow, as their owners would, the confirmation link of every contact address given and
    not confirmed yet (the confirmation e-mails are taken out of the outbox again)."""
    sent_before = len(mail.outbox)
    for change in ContactEmailChange.objects.filter(
        done_at__isnull=True, superseded_at__isnull=True, address__isnull=False
    ):
        send_confirmation(change.pk)
        confirm_contact_email(change.pk, client_address="")
    del mail.outbox[sent_before:]


def give_verified_email(user: User, address: str) -> None:
    """``user``'s contact address, already confirmed."""
    user.ensure_data_key()
    ContactEmail.objects.update_or_create(
        user=user, defaults={"address": address, "verified_at": timezone.now()}
    )


def page_answer(response) -> str:
    """A page without what differs between any two requests of it: CSRF tokens, and the
    address the language switch comes back to (which may hold a link's token)."""
    page = response.content.decode()
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    return re.sub(r'name="next" value="[^"]+"', "", page)
