"""The suite fails on a template that renders an undefined variable."""

from __future__ import annotations

import pytest
from django.template import engines


def test_rendering_an_undefined_variable_fails_the_test():
    template = engines["django"].from_string("Bonjour {{ undefined_name }}")
    with pytest.raises(pytest.fail.Exception, match="undefined_name"):
        template.render({})


def test_defined_variables_render():
    assert engines["django"].from_string("Bonjour {{ name }}").render({"name": "Léa"}) == (
        "Bonjour Léa"
    )
