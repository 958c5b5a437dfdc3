"""The patient finds a practitioner of the directory by name and gives them access (/access/)."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from access_control.directory import find_practitioners
from access_control.models import AccessRequest, Block, Consent
from accounts.models import PractitionerProfile, Profession
from tests.access_control.factories import enrolled_patient
from tests.accounts.factories import PractitionerProfileFactory, UserFactory, logged_in_client
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db


def _martins() -> tuple[PractitionerProfile, PractitionerProfile]:
    lyon = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Lyon", specialty="Médecine générale"
    )
    # Never logged in: imported from the directory, account not yet activated.
    brest = PractitionerProfileFactory.create(
        user=UserFactory.create(kind="practitioner", is_active=False),
        last_name="MARTÍN",
        first_name="Hélène",
        city="Brest",
        specialty="Cardiologie",
    )
    PractitionerProfileFactory.create(last_name="Dupont", first_name="Martine")
    return lyon, brest


def _buttons(page: str) -> dict[str, str]:
    """Each grant button's RPPS (its form's hidden field) and accessible name."""
    found = {}
    for form in re.findall(
        r'<form method="post" action="/access/" class="inline-form">.*?</form>', page, re.S
    ):
        rpps = re.search(r'name="rpps" value="(\d{11})"', form)
        button = re.search(r'<button [^>]*aria-label="([^"]*)">([^<]*)</button>', form)
        assert rpps is not None and button is not None
        # What a screen reader says starts with what the button shows.
        assert button.group(1).startswith(button.group(2))
        found[rpps.group(1)] = html.unescape(button.group(1))
    return found


def test_accent_and_case_do_not_matter_and_namesakes_are_told_apart():
    lyon, brest = _martins()
    _patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": "martin"}).content.decode()
    buttons = _buttons(page)
    assert set(buttons) == {lyon.rpps, brest.rpps}
    assert buttons[lyon.rpps] == (
        f"Donner accès à Dr Claire Martin, médecin (médecine générale), Lyon, RPPS {lyon.rpps}"
    )
    assert buttons[brest.rpps] == (
        f"Donner accès à Dr Hélène MARTÍN, médecin (cardiologie), Brest, RPPS {brest.rpps}"
    )
    # The first name narrows it, in either order, without its accent.
    assert set(_buttons(client.get("/access/", {"name": "HELENE martin"}).content.decode())) == {
        brest.rpps
    }
    patient = UserFactory.create()
    assert [e.rpps for e in find_practitioners("martín hel", patient).entries] == [brest.rpps]


@pytest.mark.parametrize("which", ["lyon", "brest"])
def test_each_button_grants_the_practitioner_it_names(which):
    profiles = dict(zip(("lyon", "brest"), _martins(), strict=True))
    patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": "Martin"}).content.decode()
    chosen = profiles[which]
    assert chosen.rpps in _buttons(page)
    response = client.post("/access/", {"rpps": chosen.rpps, "until": ""})
    assert "donnent accès jusqu'à ce que vous le retiriez" in page
    assert response.status_code == 302
    consent = Consent.objects.select_related("practitioner__practitioner_profile").get(
        patient=patient
    )
    assert consent.practitioner.practitioner_profile.rpps == chosen.rpps
    assert consent.expires_at is None  # as the page says: until revoked


def test_a_practitioner_who_never_logged_in_is_found_and_granted():
    profile = PractitionerProfileFactory.create(
        user=UserFactory.create(kind="practitioner", is_active=False),
        last_name="Lefèvre",
        first_name="Éloïse",
        profession=Profession.INFIRMIER,
        specialty="",
        city="",
    )
    patient, client, _nir = enrolled_patient()
    buttons = _buttons(client.get("/access/", {"name": "lefevre"}).content.decode())
    assert buttons == {
        profile.rpps: f"Donner accès à Éloïse Lefèvre, infirmier, RPPS {profile.rpps}"
    }
    assert client.post("/access/", {"rpps": profile.rpps}).status_code == 302
    assert Consent.objects.filter(patient=patient, practitioner=profile.user).exists()


def test_another_patient_granting_changes_nothing_for_the_first():
    lyon, _brest = _martins()
    first, _client, _nir = enrolled_patient()
    other, other_client = patient_with_login()
    assert other_client.post("/access/", {"rpps": lyon.rpps}).status_code == 302
    assert not Consent.objects.filter(patient=first).exists()
    assert Consent.objects.filter(patient=other, practitioner=lyon.user).count() == 1
    # A practitioner cannot use the patient's page at all.
    pro = PractitionerProfileFactory.create()
    assert logged_in_client(pro.user).get("/access/", {"name": "martin"}).status_code == 404


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Saisissez le nom du professionnel, par exemple Martin."),
        ("m", "Saisissez au moins 2 lettres du nom, par exemple Martin."),
        (" -é ", "Saisissez au moins 2 lettres du nom, par exemple Martin."),
    ],
)
def test_bad_input_says_what_to_type_and_finds_nothing(typed, message):
    _martins()
    _patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": typed}).content.decode()
    assert message in page
    assert _buttons(page) == {}
    # Without a search, the page asks for nothing.
    assert message not in client.get("/access/").content.decode()


def test_many_namesakes_ask_for_the_first_name():
    for index in range(21):
        PractitionerProfileFactory.create(last_name="Martin", first_name=f"Prénom{index:02d}")
    _patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": "martin"}).content.decode()
    assert len(_buttons(page)) == 20
    assert "Ajoutez le prénom" in page


def test_pending_requests_show_the_date_profession_and_specialty():
    patient, client, _nir = enrolled_patient()
    asking = PractitionerProfileFactory.create(
        last_name="Roux", first_name="Paul", specialty="Pneumologie", city="Nantes"
    )
    asked = timezone.now() - timedelta(days=3)
    AccessRequest.objects.create(patient=patient, practitioner=asking.user, created_at=asked)
    page = client.get("/access/").content.decode()
    line = re.search(r"<li>Demandé le .*?Roux.*?</li>", page, re.S).group(0)
    assert timezone.localtime(asked).strftime("%d/%m/%Y") in line
    assert "Médecin (Pneumologie), Nantes" in line
    # The buttons say whose request they answer (for a screen reader, beside "Accepter").
    assert f'aria-label="Accepter la demande de Paul Roux, RPPS {asking.rpps}"' in line
    assert f'aria-label="Refuser la demande de Paul Roux, RPPS {asking.rpps}"' in line


def test_a_first_name_alone_finds_the_practitioner():
    lyon, brest = _martins()
    aubert = PractitionerProfileFactory.create(last_name="Aubert", first_name="Martin")
    patient = UserFactory.create()

    def found(query: str) -> list[str]:
        return [entry.rpps for entry in find_practitioners(query, patient).entries]

    assert found("helene") == found("HÉLÈNE") == [brest.rpps]
    assert found("claire") == found("Claire Mar") == found("claire martin") == [lyon.rpps]
    # A first name is a whole word: "martin" lists no Martine, and those whose last name it
    # is come before the one whose first name it is.
    assert found("martin") == [lyon.rpps, brest.rpps, aubert.rpps]
    assert len(found("martine")) == 1
    # The page says so, and the buttons still name exactly whom they grant.
    _patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": "hélène"}).content.decode()
    assert "Nom ou prénom du professionnel, ou les deux" in page
    assert _buttons(page) == {
        brest.rpps: (
            f"Donner accès à Dr Hélène MARTÍN, médecin (cardiologie), Brest, RPPS {brest.rpps}"
        )
    }


def test_the_search_reads_the_name_indexes_only():
    """Each word of the query is an index range (last name first, or first name first), never
    a scan of the whole directory, however many practitioners it holds."""
    _martins()
    patient = UserFactory.create()
    with CaptureQueriesContext(connection) as queries:
        find_practitioners("claire mar", patient)
    [query] = [q["sql"] for q in queries.captured_queries if "practitionerprofile" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + query)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "practitioner_search_key" in plan and "practitioner_first_name_key" in plan, plan
    assert "Seq Scan on accounts_practitionerprofile" not in plan, plan


def _lift_forms(page: str) -> dict[str, str]:
    """Each lift-a-block form of the search results: its address and its button's name."""
    results = re.search(r'<ul [^>]*data-testid="directory-results">.*?</ul>', page, re.S)
    found = {}
    for action, form in re.findall(
        r'<form method="post" action="(/access/blocks/\d+/lift/)" class="inline-form">(.*?)</form>',
        results.group(0) if results else "",
        re.S,
    ):
        label = re.search(r'aria-label="([^"]*)">([^<]*)</button>', form)
        assert label is not None and label.group(1).startswith(label.group(2))
        found[action] = html.unescape(label.group(1))
    return found


def test_a_blocked_practitioner_is_found_marked_blocked_with_the_way_to_lift_it():
    lyon, brest = _martins()
    patient, client, _nir = enrolled_patient()
    assert client.post("/access/blocks/", {"block-rpps": lyon.rpps}).status_code == 302
    block = Block.objects.active().get(patient=patient)

    page = client.get("/access/", {"name": "martin"}).content.decode()
    assert set(_buttons(page)) == {brest.rpps}  # no grant the door would refuse
    assert "<strong>Bloqué</strong> : vous avez bloqué ce professionnel" in page
    assert _lift_forms(page) == {
        f"/access/blocks/{block.pk}/lift/": (
            f"Lever le blocage de Dr Claire Martin, médecin (médecine générale), Lyon, "
            f"RPPS {lyon.rpps}"
        )
    }

    # Lifting from the results, then the same search offers the grant again.
    assert client.post(f"/access/blocks/{block.pk}/lift/").status_code == 302
    page = client.get("/access/", {"name": "martin"}).content.decode()
    assert set(_buttons(page)) == {lyon.rpps, brest.rpps}
    assert "Bloqué</strong>" not in page and _lift_forms(page) == {}


def test_another_patients_block_shows_nowhere():
    lyon, brest = _martins()
    other, other_client = patient_with_login()
    assert other_client.post("/access/blocks/", {"block-rpps": lyon.rpps}).status_code == 302
    _patient, client, _nir = enrolled_patient()
    page = client.get("/access/", {"name": "martin"}).content.decode()
    assert set(_buttons(page)) == {lyon.rpps, brest.rpps}
    assert "Bloqué</strong>" not in page and _lift_forms(page) == {}
    assert all(entry.block_id is None for entry in find_practitioners("martin", _patient).entries)
