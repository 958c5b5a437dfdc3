"""The NIR is shown grouped as on the Vitale card, and masked wherever people are listed."""

from __future__ import annotations

from django.template import engines

from enrollment import nir

NIR = "185057800608491"


def render(template: str, **context) -> str:
    return engines["django"].from_string("{% load nir_format %}" + template).render(context)


def test_grouped_as_on_the_card():
    assert render("{{ n|nir_grouped }}", n=NIR) == "1 85 05 78 006 084 91"
    # Born in Corsica: the department is 2A or 2B, grouped like any other.
    assert nir.grouped("18505" + "2A" + "00608491") == "1 85 05 2A 006 084 91"


def test_masked_keeps_only_sex_and_year():
    masked = nir.masked(NIR)
    assert masked == "1 85 •• •• ••• ••• ••"
    assert "05" not in masked and "91" not in masked


def test_a_value_that_is_not_a_nir_is_not_grouped_or_leaked():
    assert render("{{ n|nir_grouped }}", n="[données détruites]") == "[données détruites]"
    assert nir.masked("[données détruites]") == "•••••"
