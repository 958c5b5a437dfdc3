"""Record search and filters (issue 14, items 2 and 5): accents and case are ignored both ways,
the practitioner's view of a consented record has the patient's search and filters (never
showing more than the door lets them list), a reversed period is an error on its field, and an
empty record is told apart from a search that matches nothing."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.utils import timezone

from accounts.models import Profession
from records.forms import RecordFilterForm
from records.models import Document
from records.search_tokens import folded
from records.selectors import RecordFilters
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


PERIOD_MESSAGE = (
    "La date de fin (01/01/2026) est antérieure à la date de début (01/12/2026) : la date "
    "de fin doit être égale ou postérieure à la date de début."
)
CORRECT_THE_PERIOD = "Corrigez la période pour voir les documents."
CORRECT_THE_FILTERS = "Corrigez ce qui est signalé dans les filtres pour voir les documents."


def assert_no_list_but_what_to_correct(response, sentence: str) -> None:
    """A filter in error: the error, what to correct, and no list nor "nothing matches"."""
    html = response.content.decode()
    assert "Il y a un problème" in html
    assert sentence in html
    assert "<table" not in html and "ne correspond" not in html and "pour l'instant" not in html
    assert not re.search(r'role="status">\d', html)  # no count of a list that is not shown


def test_a_reversed_period_is_an_error_and_no_list_is_shown_until_it_is_put_right():
    patient, client = patient_with_login()
    add_document(patient, title="Ancien", act_date=date(2025, 1, 10))
    add_document(patient, title="Récent", act_date=date(2026, 3, 12))
    response = client.get(URL, {"date_from": "01/12/2026", "date_to": "01/01/2026"})
    form = response.context["form"]
    assert form.errors == {"date_to": [PERIOD_MESSAGE]}
    assert PERIOD_MESSAGE in response.content.decode()
    assert_no_list_but_what_to_correct(response, CORRECT_THE_PERIOD)
    # Never half a period: the start date is not applied alone.
    assert form.filters() == RecordFilters()
    # A same-day period is valid.
    same_day = client.get(URL, {"date_from": "10/01/2025", "date_to": "10/01/2025"})
    assert not same_day.context["form"].errors and titles(same_day) == ["Ancien"]


def test_a_category_not_offered_is_an_error_and_no_list_is_shown():
    patient, client = patient_with_login()
    add_document(patient, title="Radio", category="imagerie")
    response = client.get(URL, {"category": "biologie", "q": "radio"})
    assert response.context["form"].errors == {
        "category": ["Choisissez l'une des catégories de la liste."]
    }
    assert_no_list_but_what_to_correct(response, CORRECT_THE_FILTERS)


def category_options(response) -> set[str] | None:
    select = re.search(r'<select name="category".*?</select>', response.content.decode(), re.S)
    return set(re.findall(r'<option value="([^"]*)"', select.group(0))) if select else None


def test_the_patients_category_filter_offers_only_the_categories_of_their_documents():
    patient, client = patient_with_login()
    add_document(patient, title="Radio", category="imagerie")
    add_document(patient, title="Prise de sang", category="biologie")
    gone = add_document(patient, title="Vaccin", category="prevention")
    assert client.post(f"/records/{gone.uid}/delete/").status_code == 302
    # A document the patient may not read yet (announced later): its category is not offered.
    profile, _pro = practitioner_with_login()
    later = add_document(patient, title="Annonce", category="psychiatrie", author=profile.user)
    Document.objects.filter(pk=later.pk).update(
        hidden_from_patient_until=timezone.now() + timedelta(days=7)
    )
    response = client.get(URL)
    assert category_options(response) == {"", "imagerie", "biologie"}
    html = response.content.decode()
    assert "Prévention" not in html and "psychiatriques" not in html


def test_an_empty_record_offers_no_filter_whatever_its_address():
    patient, client = patient_with_login()
    for params in ({}, {"category": "imagerie"}, {"date_from": "01/12/2026", "date_to": "x"}):
        response = client.get(URL, params)
        html = response.content.decode()
        assert 'role="search"' not in html and category_options(response) is None
        assert "Aucun document pour l'instant." in html
        assert "Il y a un problème" not in html and "Corrigez" not in html
    # Nor once its only document is deleted.
    document = add_document(patient)
    assert 'role="search"' in client.get(URL).content.decode()
    assert client.post(f"/records/{document.uid}/delete/").status_code == 302
    assert 'role="search"' not in client.get(URL).content.decode()


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
    # Not a category of what this practitioner may see: an error, never an empty list.
    psychiatry = pro.get(url, {"category": "psychiatrie"})
    assert list(psychiatry.context["form"].errors) == ["category"]
    assert_no_list_but_what_to_correct(psychiatry, CORRECT_THE_FILTERS)
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
    reversed_period = pro.get(url, {"date_from": "01/12/2026", "date_to": "01/01/2026"})
    assert reversed_period.context["form"].errors == {"date_to": [PERIOD_MESSAGE]}
    assert_no_list_but_what_to_correct(reversed_period, CORRECT_THE_PERIOD)
    assert reversed_period.context["form"].filters() == RecordFilters()


def test_the_practitioner_who_may_see_no_document_is_offered_no_filter():
    patient, client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    assert grant(client, profile.rpps).status_code == 302
    hidden = add_document(patient, title="Caché", category="imagerie")
    assert client.post(f"/records/{hidden.uid}/hide/").status_code == 302
    response = pro.get(f"/pro/patients/{patient.pk}/", {"date_from": "x"})
    html = response.content.decode()
    assert response.status_code == 200 and 'role="search"' not in html
    assert "Aucun document pour l'instant." in html and "Corrigez" not in html
    # Once a document they may read is there, the filter offers its category alone.
    add_document(patient, title="Radio", category="imagerie")
    assert category_options(pro.get(f"/pro/patients/{patient.pk}/")) == {"", "imagerie"}


def test_a_practitioner_without_consent_gets_404_whatever_the_filters():
    patient, _client, _nir = enrolled_patient()
    add_document(patient, title="Paracétamol")
    _profile, stranger = practitioner_with_login()
    assert stranger.get(f"/pro/patients/{patient.pk}/", {"q": "paracetamol"}).status_code == 404
