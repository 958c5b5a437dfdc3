"""The letter's settings (dmp_portal/settings/letter.py): its own details read from the
environment, with development defaults that say they are examples, and the operator's details
(public_pages.py) checked against the postal limits of a return address at start-up."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings import letter, public_pages


@pytest.fixture
def reload_with(monkeypatch):
    def reload(**environ: str):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        importlib.reload(public_pages)
        return importlib.reload(letter)

    yield reload
    monkeypatch.undo()
    importlib.reload(public_pages)  # the modules as the suite's environment gives them
    importlib.reload(letter)


def test_the_settings_carry_the_letter_values_with_example_defaults():
    for name in letter.__all__:
        assert getattr(settings, name) == getattr(letter, name)
    assert settings.DMP_LETTER_SIGNATORY == (
        "Le responsable du service des inscriptions (exemple)",
    )
    assert "(durée d'exemple)" in settings.DMP_LETTER_RETENTION
    assert settings.DMP_LETTER_PLACE == "Paris"


def test_values_come_from_the_environment(reload_with):
    module = reload_with(
        DMP_LETTER_SIGNATORY=" La directrice ;; Marie Exemple ",
        DMP_LETTER_PLACE="Lyon",
        DMP_LETTER_RETENTION="six mois après l'envoi",
        DMP_OPERATOR_PHONE_HOURS="du lundi au samedi de 9 h à 17 h",
    )
    assert module.DMP_LETTER_SIGNATORY == ("La directrice", "Marie Exemple")
    assert module.DMP_LETTER_PLACE == "Lyon"
    assert module.DMP_LETTER_RETENTION == "six mois après l'envoi"
    assert module.DMP_OPERATOR_PHONE_HOURS == "du lundi au samedi de 9 h à 17 h"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("DMP_OPERATOR_ADDRESS", "A;B;C;D;E;F", "1 to 5 lines separated by ';'"),
        ("DMP_OPERATOR_ADDRESS", "A" * 39 + ";75000 PARIS", "at most 38 characters"),
        ("DMP_OPERATOR_NAME", "A" * 39, "at most 38 characters"),
        ("DMP_LETTER_SIGNATORY", "A;B;C;D", "1 to 3 lines"),
        ("DMP_LETTER_SIGNATORY", "A" * 61, "at most 60 characters"),
        ("DMP_LETTER_RETENTION", "un an\naprès", "control character"),
    ],
)
def test_bad_values_stop_the_process_with_a_message(reload_with, name, value, said):
    with pytest.raises(ImproperlyConfigured, match=said):
        reload_with(**{name: value})
