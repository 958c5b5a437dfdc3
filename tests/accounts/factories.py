from __future__ import annotations

import time

import factory
from django_otp.oath import TOTP

from accounts.devices import BackupCodeDevice, TOTPDevice
from accounts.models import PractitionerProfile, Profession, User, UserKind

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
    from stdnum import luhn

    return partial + luhn.calc_check_digit(partial)


def add_totp(user: User) -> TOTPDevice:
    device = TOTPDevice.create_for(user)
    device.confirmed = True
    device.save()
    return device


def add_backup_codes(user: User, count: int = 10) -> list[str]:
    device = BackupCodeDevice.objects.create(user=user, name="backup", confirmed=True)
    return device.regenerate(count)


def totp_token(device: TOTPDevice, at: float | None = None, offset_steps: int = 0) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, 0, device.digits, 0)
    totp.time = (at if at is not None else time.time()) + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def next_totp_token(device: TOTPDevice) -> str:
    """The next code the device accepts after a login: a code works once, so the step after the
    last one used, or the current step if the clock has moved on since. (Always "the next 30
    seconds" failed when a login straddled a step boundary: the device then records a drift of
    -1 and the step after next is out of its window.)"""
    device.refresh_from_db()
    step = max(int(time.time()) // device.step, device.last_t + 1)
    return totp_token(device, at=step * device.step)


def logged_in_client(user):
    """A test client past both factors for ``user`` (a TOTP device is added)."""
    from django.test import Client

    device = add_totp(user)
    client = Client()
    client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    client.post("/accounts/login/", {"otp_token": totp_token(device)})
    return client
