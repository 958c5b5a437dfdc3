from __future__ import annotations

import itertools
from datetime import date

from django.test import Client
from stdnum.fr import nir as stdnum_nir

from accounts.models import User
from dmp_portal.crypto.datakeys import create_data_key
from enrollment.models import Beneficiary
from enrollment.postal import build_address
from enrollment.services.registry import nir_index
from letters.models import Letter
from tests.letters.reading import code_from_letter

_serial = itertools.count(1)


def make_nir(sex: str = "1", born: date = date(1985, 5, 14), place: str = "78006") -> str:
    """A valid NIR: sex, year, month, place of birth (department + commune), serial, key."""
    body = f"{sex}{born:%y}{born:%m}{place}{next(_serial) % 1000:03d}"
    return body + stdnum_nir.calc_check_digits(body)


def make_beneficiary(
    *,
    nir: str | None = None,
    born: date = date(1985, 5, 14),
    last_name: str = "Dupont",
    first_name: str = "Léa",
    postcode: str = "75015",
    city: str = "Paris",
    street: str = "3 rue des Lilas",
    regime: str = "general",
    country: str = "",
) -> Beneficiary:
    nir = nir or make_nir(born=born)
    address = build_address(
        first_name=first_name,
        last_name=last_name,
        delivery_point="Appartement 12",
        building="Résidence Les Tilleuls",
        street=street,
        locality="",
        postcode=postcode,
        city=city,
        country=country,
    )
    return Beneficiary.objects.create(
        nir_index=nir_index(nir),
        data_key=create_data_key("beneficiary"),
        nir=nir,
        last_name=last_name,
        first_name=first_name,
        birth_date=born.isoformat(),
        regime=regime,
        address=address.as_json(),
    )


ACTIVATE_URL = "/enrollment/activate/"
PASSWORD = "une longue phrase de printemps"
NEW_PASSWORD = "un autre long matin de septembre"
# The one answer to every code that opens nothing (wrong, expired, used, superseded, burned,
# or another number's), creation and reactivation codes alike.
REFUSAL = "Ce numéro et ce code ne correspondent à aucun code valide"


def submit_code(client: Client, nir: str, code: str):
    return client.post(ACTIVATE_URL, {"nir": nir, "creation_code": code})


def enrol_by_post(person: Beneficiary) -> User:
    """/enrollment/, the letter's code, /enrollment/activate/: the account the post opens."""
    Client(REMOTE_ADDR="192.0.2.10").post(
        "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
    )
    code = code_from_letter(Letter.objects.filter(subject_uid=person.uid).latest("pk"))
    browser = Client(REMOTE_ADDR="192.0.2.10")
    assert submit_code(browser, person.nir, code).status_code == 302
    done = browser.post(
        "/enrollment/activate/", {"new_password1": PASSWORD, "new_password2": PASSWORD}
    )
    return User.objects.get(username=done.context["identifier"])
