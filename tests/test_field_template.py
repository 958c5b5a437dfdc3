"""The field include renders valid HTML: a help text holding a list (the password rules) is not
put inside a paragraph, so that aria-describedby names an element that holds the help."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django import forms
from django.contrib.auth.forms import SetPasswordForm
from django.template.loader import render_to_string

from tests.accounts.factories import UserFactory

# Elements that cannot hold a list: the HTML parser closes the <p> at the <ul>, leaving the
# hint empty and the list outside it.
PHRASING_ONLY = {"p", "span", "label", "a", "em", "strong"}
BLOCKS = {"ul", "ol", "div", "p", "table"}


class _Tree(HTMLParser):
    """Records block elements opened inside phrasing-only ones, and the text of each id."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[tuple[str, str | None]] = []
        self.misplaced: list[str] = []
        self.text_by_id: dict[str, str] = {}
        self.described_by: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag in BLOCKS and any(open_tag in PHRASING_ONLY for open_tag, _ in self.stack):
            self.misplaced.append(f"<{tag}> inside <{self.stack[-1][0]}>")
        if attributes.get("aria-describedby"):
            self.described_by += (attributes["aria-describedby"] or "").split()
        if tag in {"input", "br", "img", "meta", "link"}:
            return
        element_id = attributes.get("id")
        if element_id:
            self.text_by_id[element_id] = ""
        self.stack.append((tag, element_id))

    def handle_endtag(self, tag):
        while self.stack:
            open_tag, _ = self.stack.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, element_id in self.stack:
            if element_id:
                self.text_by_id[element_id] += data


def _parse(html: str) -> _Tree:
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree


@pytest.mark.django_db
def test_a_help_text_holding_a_list_is_valid_html_and_described():
    form = SetPasswordForm(UserFactory.build())
    field = form["new_password1"]
    assert "<ul" in str(field.help_text)  # Django's password rules: the case that broke
    tree = _parse(render_to_string("includes/field.html", {"field": field}))
    assert tree.misplaced == []
    assert tree.described_by == ["id_new_password1_hint"]
    assert tree.text_by_id["id_new_password1_hint"].strip()


def test_the_check_catches_a_list_inside_a_paragraph():
    tree = _parse('<p class="hint" id="x_hint"><ul><li>12 caractères</li></ul></p>')
    assert tree.misplaced == ["<ul> inside <p>"]


def test_errors_are_described_too():
    class Form(forms.Form):
        name = forms.CharField(label="Nom", help_text="Comme sur la carte Vitale.")

    form = Form(data={})
    assert not form.is_valid()
    tree = _parse(render_to_string("includes/field.html", {"field": form["name"]}))
    assert tree.misplaced == []
    assert tree.described_by == ["id_name_hint", "id_name_error_1"]
    for element_id in tree.described_by:
        assert tree.text_by_id[element_id].strip()
