"""The operator's details (dmp_portal/settings/operator.py): read from the environment, checked
at start-up, with development defaults that say they are examples."""

from __future__ import annotations

import importlib

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings import operator


@pytest.fixture
def reload_with(monkeypatch):
    def reload(**environ: str):
        for name, value in environ.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(operator)

    yield reload
    monkeypatch.undo()
    importlib.reload(operator)  # the module as the suite's environment gives it


def test_the_settings_carry_every_operator_value():
    for name in operator.__all__:
        assert getattr(settings, name) == getattr(operator, name)
    assert settings.DMP_OPERATOR_ADDRESS == (
        "Service des inscriptions (exemple)",
        "TSA 00000",
        "75000 PARIS",
    )
    assert "(exemple)" in settings.DMP_OPERATOR_NAME
    assert settings.DMP_OPERATOR_PHONE.startswith("01 99 00")  # ARCEP's range for fiction


def test_values_come_from_the_environment(reload_with):
    module = reload_with(
        DMP_OPERATOR_NAME="Agence du DMP",
        DMP_OPERATOR_ADDRESS=" Service des inscriptions ; TSA 12345;;75000 PARIS ",
        DMP_LETTER_SIGNATORY="La directrice;Marie Exemple",
        DMP_DPO_CONTACT="dpo@dmp.example",
    )
    assert module.DMP_OPERATOR_NAME == "Agence du DMP"
    assert module.DMP_OPERATOR_ADDRESS == ("Service des inscriptions", "TSA 12345", "75000 PARIS")
    assert module.DMP_LETTER_SIGNATORY == ("La directrice", "Marie Exemple")
    assert module.DMP_DPO_CONTACT == "dpo@dmp.example"


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("DMP_OPERATOR_ADDRESS", "A;B;C;D;E;F", "1 to 5 lines separated by ';'"),
        ("DMP_OPERATOR_ADDRESS", " ; ", "1 to 5 lines separated by ';'"),
        ("DMP_OPERATOR_ADDRESS", "A" * 39 + ";75000 PARIS", "at most 38 characters"),
        ("DMP_OPERATOR_NAME", "A" * 39, "at most 38 characters"),
        ("DMP_LETTER_SIGNATORY", "A;B;C;D", "1 to 3 lines"),
        ("DMP_OPERATOR_PHONE", "01 99\t00 00 00", "control character"),
    ],
)
def test_bad_values_stop_the_process_with_a_message(reload_with, name, value, said):
    with pytest.raises(ImproperlyConfigured, match=said):
        reload_with(**{name: value})
