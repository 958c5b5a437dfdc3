from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import PractitionerProfile, User
from enrollment.models import Beneficiary

pytestmark = pytest.mark.django_db


def test_seed_demo_is_idempotent_and_creates_the_published_logins():
    first = StringIO()
    call_command("seed_demo", stdout=first)
    users = set(User.objects.values_list("username", "kind"))
    assert {
        ("patient.demo", "patient"),
        ("10000000009", "practitioner"),
        ("admin.demo", "staff"),
        ("relecteur.demo", "staff"),
    } <= users
    assert User.objects.get(username="admin.demo").check_password("demo-portail-2026")
    assert User.objects.get(username="relecteur.demo").check_password("demo-portail-2026")

    second = StringIO()
    call_command("seed_demo", stdout=second)
    assert second.getvalue().strip().endswith("created=0")
    assert set(User.objects.values_list("username", "kind")) == users
    assert PractitionerProfile.objects.count() == 1
    # The demo patient is an insured person of the registry, with that person's data key.
    patient = User.objects.get(username="patient.demo")
    assert patient.beneficiary.nir == "290127511234540"
    assert patient.data_key_id == patient.beneficiary.data_key_id
    assert Beneficiary.objects.count() == 2
