"""check_row (issue 18, item 7): a registry row checked by plain functions, not a form per row,
with the reasons the import printed before, column by column in the file's order."""

from __future__ import annotations

from django.utils import translation

from enrollment.postal import PostalAddress
from enrollment.validators import check_row

GOOD = {
    "nir": "1 85 05 78 006 084 91",
    "last_name": "Dupont",
    "first_name": "Léa",
    "birth_date": "1985-05-14",
    "delivery_point": "",
    "building": "",
    "street": "3 rue des Lilas",
    "locality": "",
    "postcode": "75015",
    "city": "Paris",
    "country": "",
    "regime": "GENERAL ",
}


def test_a_good_row_gives_its_cleaned_values():
    data, reason = check_row(GOOD)
    assert reason == ""
    assert data["nir"] == "185057800608491"
    assert data["regime"] == "general"
    assert data["opposition"] is None and data["representative_nirs"] is None
    assert isinstance(data["address"], PostalAddress)
    assert data["address"].lines == ("Léa DUPONT", "3 RUE DES LILAS", "75015 PARIS")


def test_every_column_at_fault_is_named_in_order_then_the_address():
    row = {**GOOD, "nir": "", "last_name": "x" * 101, "regime": "foo", "postcode": "7501"}
    with translation.override("fr"):
        data, reason = check_row(row)
        # The same row again: the shared fields keep nothing from the row before.
        assert check_row(GOOD)[1] == ""
    assert data == {}
    assert reason == (
        "nir: Ce champ est obligatoire.; "
        "last_name: Assurez-vous que cette valeur comporte au plus 100 caractères "
        "(actuellement 101).; "
        "regime: Régime inconnu « foo » ; valeurs attendues : general, agricole, independant, "
        "fonctionnaire, etudiant, autre."
    )


def test_an_adult_with_representatives_is_refused_after_the_columns():
    row = {**GOOD, "representative_nirs": "2 90 03 75 112 005 42", "postcode": "7501"}
    with translation.override("fr"):
        _data, reason = check_row(row)
    assert reason.startswith("representative_nirs: ")
    assert reason.endswith(
        "; postcode : un code postal français compte 5 chiffres, par exemple 75015."
    )
