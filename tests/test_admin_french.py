"""Every label of every admin page is in French.

Staff log in in French (the portal's language); each registered admin's list and change form
is requested twice, in French and in English, and each label of the French page (column
headers, filter titles and choices, actions, field labels, fieldset and inline headings, app and
model names in the menu, the breadcrumbs and the page title) is compared with the same label of
the English page. A label that reads the same in both languages is an English string left
without translation, unless it is one of the few words that are French as well (``SAME_WORD``).
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib import admin
from django.test import Client
from django.utils import timezone

from access_control.models import DeathProposal, EmergencyAccess
from accounts.models import ThrottleLock, User
from enrollment.models import EnrollmentRequest, RegistryChange
from letters.models import Letter, LetterBatch
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, logged_in_client
from tests.accounts.oauth_factories import make_application
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

# Words that are the same in French and English: shown as they are in both. Kept short on
# purpose: every addition must be a word a French reader reads as French.
SAME_WORD = frozenset(
    {
        "action",
        "audit",  # the app (Django's default name, the same word in French)
        "dates",
        "document",
        "documents",
        "mode",
        "normal",
        "code",
        "patient",
        "profession",
        "pages",
        # Issue 19: the model of django-oauth-toolkit's registered applications.
        "application",
        "applications",
    }
)


def left_in_english(shown: str, source: str, data: set[str]) -> bool:
    """Whether a French label is its English source: the same text in both pages, once the
    data it may carry (names, login identifiers, references, numbers) is set aside, and not a
    word that is French as well."""
    if shown != source:
        return False
    for value in data:
        shown = shown.replace(value, " ")
    words = " ".join(word for word in shown.split() if not any(c.isdigit() for c in word))
    words = words.strip(" ()#/:-,").casefold()
    return bool(words) and words not in SAME_WORD


class Labels(HTMLParser):
    """Collects, in page order, the text of each kind of label an admin page shows."""

    # tag -> kind, for tags whose whole text is one label
    KINDS = {
        "h1": "title",
        "h2": "heading",
        "caption": "app",
        "th": "column",
        "label": "label",
        "summary": "filter",
        "legend": "heading",
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: dict[str, list[str]] = {}
        self.stack: list[tuple[str, str, list[str]]] = []
        self.in_filter = 0
        self.in_actions = False
        self.in_breadcrumbs = 0
        self.depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "select" and attributes.get("name") == "action":
            self.in_actions = True
        kind = self.KINDS.get(tag)
        if tag == "option" and self.in_actions:
            kind = "action"
        if tag == "a" and self.in_filter and not self.stack:
            kind = "filter choice"
        if tag == "a" and self.in_breadcrumbs and not self.stack:
            kind = "breadcrumb"
        if tag == "nav" and attributes.get("id") == "nav-sidebar":
            kind = None
        if tag == "details" and attributes.get("data-filter-title") is not None:
            self.in_filter += 1
        if tag == "div" and "breadcrumbs" in classes:
            self.in_breadcrumbs += 1
        if tag == "th" and (
            attributes.get("scope") != "col" or "action-checkbox-column" in classes
        ):
            kind = None  # a row's own cell (its data), or the select-all box
        if tag == "option" and not attributes.get("value"):
            kind = None  # the action menu's "---------"
        if kind is not None:
            self.stack.append((tag, kind, []))

    def handle_endtag(self, tag):
        if tag == "select":
            self.in_actions = False
        if tag == "details" and self.in_filter:
            self.in_filter -= 1
        if tag == "div" and self.in_breadcrumbs:
            self.in_breadcrumbs -= 1 if not self.stack else 0
        if self.stack and self.stack[-1][0] == tag:
            _tag, kind, parts = self.stack.pop()
            text = " ".join("".join(parts).split()).rstrip(" :")
            self.found.setdefault(kind, []).append(text)

    def handle_data(self, data):
        for _tag, _kind, parts in self.stack:
            parts.append(data)


def labels(html: str) -> dict[str, list[str]]:
    parser = Labels()
    parser.feed(html)
    return parser.found


@pytest.fixture
def pages():
    """One object of each registered model, and every admin list and change form."""
    patient, _client = patient_with_login()
    document = add_document(patient)
    profile = PractitionerProfileFactory()
    person = make_beneficiary()
    staff = StaffFactory()
    proposer = StaffFactory()
    change = RegistryChange.objects.create(
        beneficiary=person,
        proposed_by=proposer,
        values={
            "last_name": "X",
            "first_name": "Y",
            "birth_date": "1985-05-14",
            "regime": "general",
            "address": person.address,
        },
        changed_fields="last_name",
    )
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    LetterBatch.objects.create()
    EnrollmentRequest.objects.create(nir_index="x" * 64)
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=profile.user,
        reason="inconscient",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    ThrottleLock.objects.create(
        scope="password-pair",
        key_digest="0" * 64,
        until=timezone.now() + timedelta(minutes=15),
        account=profile.user,
        network="192.0.2.x",
    )
    death = DeathProposal.objects.create(patient=patient, proposed_by=proposer)
    # Issue 19: an application of practitioners' software; its name and client id are data.
    application = make_application(name="Cabinet Plus")[0]
    assert document.pk
    # Shown as they are in every language: names, login identifiers and the letter's random
    # reference (« L-GRCQKFDKQJ » has no digit to tell it from a word).
    data = {str(profile), str(letter), application.name, application.client_id} | {
        user.username for user in User.objects.all()
    }
    found = ["/admin/"]
    for model in admin.site._registry:
        opts = model._meta
        base = f"/admin/{opts.app_label}/{opts.model_name}/"
        found += [f"/admin/{opts.app_label}/", base]
        sample = model._default_manager.order_by("pk").first()
        assert sample is not None, f"no {opts.label} to open"
        found.append(f"{base}{sample.pk}/change/")
    found += [
        "/admin/enrollment/beneficiary/find/",
        f"/admin/enrollment/registrychange/{change.pk}/review/",
        "/admin/access_control/deathproposal/propose/",
        f"/admin/access_control/deathproposal/{death.pk}/review/",
        f"/admin/accounts/user/{patient.pk}/change/",
    ]
    return logged_in_client(staff), found, data


def in_language(client: Client, path: str, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(path)
    assert response.status_code == 200, f"{path} in {language}: {response.status_code}"
    return response.content.decode()


def test_every_admin_page_speaks_french(pages):
    client, paths, data = pages
    english_left = []
    for path in paths:
        french = labels(in_language(client, path, "fr"))
        english = labels(in_language(client, path, "en"))
        for kind, texts in french.items():
            for shown, source in zip(texts, english.get(kind, []), strict=False):
                if left_in_english(shown, source, data):
                    english_left.append(f"{path} {kind}: {shown!r}")
    assert not english_left, "\n".join(sorted(set(english_left)))
