"""Search without decrypting the record (issue 20, item 5): titles are found through keyed tokens
of their words (records.search_tokens). Pinned here: accents and case ignored both ways, a word
of 3 characters or more found as a word's beginning, a shorter one as a whole word only, never
inside a word; every word of the search required; a token of one patient never matching
another's document; a new version found by its new title only; documents from before the tokens
indexed by the migration's command; and the SQL of a search reading the token index."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dmp_portal.crypto.datakeys import destroy_data_key
from records.models import Category, Document, SearchToken
from records.search_tokens import matching, title_tokens, words
from records.versions import replace_document
from tests.records.factories import PDF, add_document, patient_with_login

pytestmark = pytest.mark.django_db

URL = "/records/"


def titles(client, query: str) -> set[str]:
    response = client.get(URL, {"q": query})
    assert response.status_code == 200
    return {row.title for row in response.context["page"].object_list}


def test_words_are_folded_and_split_on_what_is_neither_a_letter_nor_a_digit():
    assert words("Compte-rendu d'ÉCHOGRAPHIE n°12 (Œdème)") == [
        "compte",
        "rendu",
        "d",
        "echographie",
        "n",
        "12",
        "œdeme",
    ]


def test_accents_and_case_are_ignored_both_ways_in_words_and_their_beginnings():
    patient, client = patient_with_login()
    add_document(patient, title="Échographie abdominale")
    add_document(patient, title="Radio du genou")
    for query in ("écho", "ECHO", "Echographie", "ÉCHOGRAPHIE", "abdo", "échographie ABDOMINALE"):
        assert titles(client, query) == {"Échographie abdominale"}, query


def test_a_beginning_of_three_or_more_is_found_a_shorter_word_only_whole_never_inside():
    patient, client = patient_with_login()
    add_document(patient, title="Radio du genou")
    add_document(patient, title="Radiothérapie, séance 12")
    assert titles(client, "rad") == {"Radio du genou", "Radiothérapie, séance 12"}
    assert titles(client, "radio") == {"Radio du genou", "Radiothérapie, séance 12"}
    assert titles(client, "radioth") == {"Radiothérapie, séance 12"}
    # Under three characters: whole words only.
    assert titles(client, "du") == {"Radio du genou"}
    assert titles(client, "12") == {"Radiothérapie, séance 12"}
    assert titles(client, "ra") == set() and titles(client, "1") == set()
    # Never inside a word, nor across words.
    assert titles(client, "adio") == set() and titles(client, "enou") == set()
    # Every word is required, in any order.
    assert titles(client, "genou radio") == {"Radio du genou"}
    assert titles(client, "radio coude") == set()
    # Nothing but punctuation: nothing is found (not everything).
    assert titles(client, "--") == set()


def test_a_token_of_one_patient_never_matches_another_patients_document():
    first, first_client = patient_with_login()
    second, second_client = patient_with_login()
    mine = add_document(first, title="Bilan thyroïdien")
    theirs = add_document(second, title="Bilan thyroïdien")
    # Equal words, different tokens: nothing of one record is shared with the other.
    assert title_tokens(first.pk, "Bilan thyroïdien").isdisjoint(
        title_tokens(second.pk, "Bilan thyroïdien")
    )
    stored = set(SearchToken.objects.filter(indexed_document=mine).values_list("token", flat=True))
    assert stored and stored.isdisjoint(
        SearchToken.objects.filter(indexed_document=theirs).values_list("token", flat=True)
    )
    # Even without the door's filter, one patient's search finds only their own document.
    assert list(matching(Document.objects.all(), first.pk, "thyro")) == [mine]
    assert titles(first_client, "bilan") == titles(second_client, "bilan") == {"Bilan thyroïdien"}


def test_a_new_version_is_found_by_its_new_title_only():
    patient, client = patient_with_login()
    first = add_document(patient, title="Ordonnance initiale")
    replace_document(
        patient,
        first.uid,
        upload=io.BytesIO(PDF),
        title="Prescription corrigée",
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 3, 13),
    )
    assert titles(client, "corrig") == {"Prescription corrigée"}
    assert titles(client, "initiale") == set() and titles(client, "ordonnance") == set()


def test_documents_without_tokens_are_indexed_by_the_command_the_migration_runs(capsys):
    patient, client = patient_with_login()
    add_document(patient, title="Scanner thoracique")
    SearchToken.objects.all().delete()  # as a document written before the tokens existed
    assert titles(client, "scanner") == set()
    call_command("index_search_tokens")
    assert capsys.readouterr().out.strip() == "indexed=1"
    assert titles(client, "thorac") == {"Scanner thoracique"}
    call_command("index_search_tokens")  # indexed ones are left alone
    assert capsys.readouterr().out.strip() == "indexed=0"


def test_a_search_reads_the_token_index_and_never_every_title():
    patient, client = patient_with_login()
    for index in range(30):
        add_document(patient, title=f"Compte rendu {index}")
    with CaptureQueriesContext(connection) as queries:
        assert titles(client, "rendu 7") == {"Compte rendu 7"}
    searches = [q["sql"] for q in queries if '"records_searchtoken"' in q["sql"]]
    assert searches  # the count and the page, both through the tokens
    # No query reads the titles of the whole record: each reading one filters by the tokens.
    for query in queries:
        if '"records_document"."title"' in query["sql"]:
            assert '"records_searchtoken"' in query["sql"], query["sql"]


def test_a_document_whose_key_is_destroyed_is_never_found():
    patient, _client = patient_with_login()
    add_document(patient, title="Scanner thoracique")
    record = Document.objects.filter(patient=patient)
    assert matching(record, patient.pk, "scanner").count() == 1
    destroy_data_key(patient.data_key)
    # Its title is gone: its tokens, still stored, find nothing (as decryption found nothing).
    assert matching(record, patient.pk, "scanner").count() == 0
