"""Coming of age, in Chromium (issue 17, item 5): a child's record kept by a parent; on the 18th
birthday the daily task ends the parent's access and posts a takeover code; the young adult
types it at /enrollment/activate/, chooses a password, sets up an app and finds the document
and the history of the takeover. Every page shown is checked (axe-core, labels, language, two
widths, 320 px)."""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.utils import timezone
from playwright.sync_api import expect

from access_control import policy
from audit.models import Action
from enrollment.services.majority import queue_majorities
from letters.models import Letter
from tests.accounts.factories import UserFactory
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import fits_320_pixels, follow, set_up_app
from tests.enrollment.coming_of_age import make_child, represent
from tests.letters.reading import code_from_letter
from tests.records.factories import add_document

PASSWORD = "le premier matin de mes dix-huit ans"


def eighteen_years_ago_today() -> date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - 18)
    except ValueError:  # 29 February: of age on 1 March (enrollment.models.age_on)
        return date(today.year - 18, 2, 28)


def test_the_young_adult_takes_over_their_record_at_18(
    site, new_page, inspector, django_capture_on_commit_callbacks
):
    person, child = make_child(eighteen_years_ago_today())
    parent = UserFactory(kind="patient")
    represent(child, parent)
    add_document(child, title="Carnet de vaccination")

    # The daily task, as the beat runs it: the parent's access ends, the letter is posted.
    with django_capture_on_commit_callbacks(execute=True):
        assert queue_majorities() == 1
    with transaction.atomic():
        assert not policy.authorize(parent, child, Action.LIST, acting_for=True).allowed
    code = code_from_letter(Letter.objects.get(subject_uid=person.uid, kind="majority_code"))

    page = inspector.watch(new_page())
    page.goto(site + "/enrollment/activate/")
    inspector.check(page, "activate")
    fill_by_keyboard(page, {"nir": person.nir, "creation_code": code})
    inspector.check(page, "takeover-password")
    expect(page.locator("h1")).to_have_text("Choisissez votre mot de passe")
    expect(page.get_by_role("main")).to_contain_text("Vous avez atteint la majorité")
    assert fits_320_pixels(page)
    fill_by_keyboard(page, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    inspector.check(page, "taken-over")
    expect(page.locator("h1")).to_have_text("Vous avez repris votre dossier")
    expect(page.get_by_test_id("identifier")).to_have_text(child.username)
    assert fits_320_pixels(page)

    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "first-login")
    fill_by_keyboard(page, {"username": child.username, "password": PASSWORD})
    set_up_app(page, inspector, "setup")

    page.goto(site + "/records/")
    inspector.check(page, "record")
    expect(page.get_by_role("link", name="Carnet de vaccination")).to_be_visible()
    page.goto(site + "/access/history/")
    inspector.check(page, "history")
    history = page.get_by_role("main")
    expect(history).to_contain_text("Fin d'une représentation légale")
    expect(history).to_contain_text("Reprise du dossier à la majorité par courrier")
