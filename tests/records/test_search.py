"""Record search and filters (issue 14, items 2 and 5): accents and case are ignored both ways,
the practitioner's view of a consented record has the patient's search and filters (never
showing more than the door lets them list), a reversed period is an error on its field, and an
empty record is told apart from a search that matches nothing."""

from __future__ import annotations

from datetime import date

import pytest

from accounts.models import Profession
from records.forms import RecordFilterForm
from records.models import Document
from records.selectors import RecordFilters, folded
from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

URL = "/records/"


def titles(response) -> list[str]:
    assert response.status_code == 200
    return [row.title for row in response.context["page"].object_list]


def test_folded_drops_accents_and_case():
    assert folded("Paracétamol") == folded("PARACETAMOL") == "paracetamol"
    assert folded("Électrocardiogramme ÇA") == "electrocardiogramme ca"


def test_search_ignores_accents_and_case_both_ways():
    patient, client = patient_with_login()
    add_document(patient, title="Ordonnance Paracétamol")
    add_document(patient, title="paracetamol générique")
    add_document(patient, title="Radio du genou")
    expected = {"Ordonnance Paracétamol", "paracetamol générique"}
    for query in ("paracetamol", "PARACÉTAMOL", "Paracétamol", "pArAcEtAmOl"):
        assert set(titles(client.get(URL, {"q": query}))) == expected, query
    assert titles(client.get(URL, {"q": "GÉNÉRIQUE"})) == ["paracetamol générique"]
    assert titles(client.get(URL, {"q": "genou"})) == ["Radio du genou"]


def test_a_reversed_period_is_an_error_on_its_field_and_the_end_date_is_left_out():
    patient, client = patient_with_login()
    add_document(patient, title="Ancien", act_date=date(2025, 1, 10))
    add_document(patient, title="Récent", act_date=date(2026, 3, 12))
    response = client.get(URL, {"date_from": "01/03/2026", "date_to": "01/01/2025"})
    form = response.context["form"]
    assert list(form.errors) == ["date_to"]
    html = response.content.decode()
    assert "Il y a un problème" in html
    assert (
        "La date de fin (01/01/2025) est antérieure à la date de début (01/03/2026) : la date "
        "de fin doit être égale ou postérieure à la date de début." in html
    )
    # Not an empty list: the start date still applies, the reversed end date is left out.
    assert titles(response) == ["Récent"]
    assert "Aucun document ne correspond" not in html
    # A same-day period is valid.
    same_day = client.get(URL, {"date_from": "10/01/2025", "date_to": "10/01/2025"})
    assert not same_day.context["form"].errors and titles(same_day) == ["Ancien"]


def test_the_form_keeps_valid_filters_beside_a_field_in_error():
    form = RecordFilterForm({"q": " genou ", "category": "nope", "date_from": "hier"})
    assert set(form.errors) == {"category", "date_from"}
    assert form.filters() == RecordFilters(query="genou")
    assert not RecordFilterForm().filters().narrowed


def test_an_empty_record_says_nothing_yet_and_a_search_says_nothing_matches():
    patient, client = patient_with_login()
    empty = client.get(URL).content.decode()
    assert "Aucun document pour l'instant." in empty
    assert "ne correspond" not in empty
    add_document(patient, title="Radio du genou")
    missed = client.get(URL, {"q": "paracetamol"}).content.decode()
    assert "Aucun document ne correspond à votre recherche." in missed
    assert "pour l'instant" not in missed


@pytest.fixture
def consented():
    """A pharmacist with consent to a record holding a readable, a hidden (biology) and a
    psychiatry document (pharmacists may not read psychiatry:
    access_control/profession_defaults.py), each titled with "Paracétamol", and one of their
    own."""
    patient, client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login(Profession.PHARMACIEN)
    assert grant(client, profile.rpps).status_code == 302
    add_document(patient, title="Paracétamol 1 g", category="imagerie", act_date=date(2026, 3, 1))
    hidden = add_document(
        patient, title="Paracétamol caché", category="biologie", act_date=date(2026, 3, 2)
    )
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    add_document(
        patient,
        title="Paracétamol en psychiatrie",
        category="psychiatrie",
        act_date=date(2026, 3, 3),
    )
    add_document(
        patient,
        title="Ordonnance paracetamol",
        category="imagerie",
        act_date=date(2026, 3, 4),
        author=profile.user,
    )
    return patient, pro


def test_the_practitioner_searches_and_filters_without_seeing_what_the_door_refuses(consented):
    patient, pro = consented
    url = f"/pro/patients/{patient.pk}/"
    readable = ["Ordonnance paracetamol", "Paracétamol 1 g"]
    assert titles(pro.get(url)) == readable
    assert titles(pro.get(url, {"q": "PARACETAMOL"})) == readable
    assert titles(pro.get(url, {"q": "caché"})) == []
    assert titles(pro.get(url, {"category": "psychiatrie"})) == []
    assert titles(pro.get(url, {"author": "patient"})) == ["Paracétamol 1 g"]
    assert titles(pro.get(url, {"author": "practitioner"})) == ["Ordonnance paracetamol"]
    assert titles(pro.get(url, {"date_from": "04/03/2026"})) == ["Ordonnance paracetamol"]
    html = pro.get(url, {"q": "caché"}).content.decode()
    assert "Aucun document ne correspond à votre recherche." in html
    assert "caché" in html  # the query kept in its field, the title nowhere
    assert "Paracétamol caché" not in html and "psychiatrie</td>" not in html
    page = pro.get(url).content.decode()
    for name in ("q", "category", "author", "date_from", "date_to"):
        assert f'name="{name}"' in page
    assert "Le patient" in page and ">Moi<" not in page  # "Added by" speaks to the practitioner
    # The category filter offers what this practitioner may see documents of, nothing else.
    assert 'value="imagerie"' in page
    assert 'value="psychiatrie"' not in page and 'value="biologie"' not in page
    reversed_period = pro.get(url, {"date_from": "04/03/2026", "date_to": "01/03/2026"})
    assert list(reversed_period.context["form"].errors) == ["date_to"]
    assert titles(reversed_period) == ["Ordonnance paracetamol"]


def test_a_practitioner_without_consent_gets_404_whatever_the_filters():
    patient, _client, _nir = enrolled_patient()
    add_document(patient, title="Paracétamol")
    _profile, stranger = practitioner_with_login()
    assert stranger.get(f"/pro/patients/{patient.pk}/", {"q": "paracetamol"}).status_code == 404
