"""Issue 17's acceptance journey, in Chromium, on a frozen clock (time_machine: the live server
is a thread of this process, so it lives on the same clock).

Late on the eve of a day two days away, Claire Martin opens her own record by post (her number
typed twice, the letter's code, a password, an authenticator app), then her daughter Zoé's, who
turns 18 the next day: Zoé's number typed twice, the letter addressed to Claire, its code typed
while Claire is logged in. Claire switches to Zoé's record and adds a vaccination certificate to
it as her legal representative. Dr Bernard, whom Zoé's record lets read it, adds a laboratory
result kept confidential from the legal representatives. Claire never learns of it: not in the
list, not in the count, not among the filter's categories, not in the history, and its address
answers 404. Midnight: Zoé is 18 and the daily beat runs. Claire's very next request falls back
to her own record, and Zoé's addresses answer 404. Zoé types the takeover letter's code,
chooses a password, sets up an app, logs in and finds both documents, the confidential one
included. Every page shown is checked (axe-core at 0 violations, labels, French, 320 px).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from access_control.models import Consent
from audit.models import Action, AuditEvent, Mode
from enrollment.models import Beneficiary, RegistryRepresentative
from enrollment.services.majority import queue_majorities
from letters.models import Letter
from records.models import Document
from tests.accounts.factories import PASSWORD as PRO_PASSWORD
from tests.accounts.factories import PractitionerProfileFactory, add_totp, totp_token
from tests.e2e.browser import Inspector, fill_by_keyboard, next_document, tab_to
from tests.e2e.steps import (
    ask_and_read_code,
    fits_320_pixels,
    follow,
    log_in,
    one_page_pdf,
    set_up_app,
)
from tests.enrollment.factories import make_beneficiary
from tests.enrollment.minors_world import letters_for
from tests.letters.reading import code_from_letter, letter_text

PARIS = ZoneInfo("Europe/Paris")
CLAIRE_PASSWORD = "un long chemin vers la mer"
ZOE_PASSWORD = "le premier matin de mes dix-huit ans"
CERTIFICATE = "Certificat de vaccination"
CONFIDENTIAL = "Consultation de contraception"
BOX = '[name="confidential_from_representatives"]'


class At320(Inspector):
    """The inspector's checks, and no sideways scroll at 320 px (the narrowest phone) either."""

    def check(self, page, step: str) -> None:
        super().check(page, step)
        assert fits_320_pixels(page), f"{self.name}/{step}: scrolls sideways at 320 px"


@pytest.fixture
def inspector(inspector):
    """conftest's inspector, sharing its sets (its last word: every page shown was checked)."""
    return At320(inspector.name, checked=inspector.checked, visited=inspector.visited)


def a_birthday_ahead() -> date:
    """Two days from now (never 29 February), so that the frozen clock is ahead of the real
    one: the browser, on the real clock, keeps the cookies the portal dates on the frozen one."""
    day = timezone.localdate() + timedelta(days=2)
    return day + timedelta(days=1) if (day.month, day.day) == (2, 29) else day


def at(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=PARIS)


def pdf(name: str, text: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": one_page_pdf(text)}


def add_document(page, inspector, step: str, title: str, category: str, confidential=False):
    """The upload page, reached from the record's page with the keyboard; the file, the title,
    the category, for a practitioner the confidentiality box, then sent."""
    follow(page, page.get_by_role("link", name="Ajouter un document"))
    inspector.check(page, step)
    page.set_input_files('input[type="file"]', files=[pdf(title.lower() + ".pdf", title)])
    fill_by_keyboard(page, {"title": title, "category": category}, submit=False)
    if confidential:
        tab_to(page, BOX)
        page.keyboard.press("Space")
        expect(page.locator(BOX)).to_be_checked()
    tab_to(page, 'main form button[type="submit"]')
    with next_document(page):
        page.keyboard.press("Enter")
    inspector.check(page, step + "-done")


def switch_to(page, option: str) -> None:
    """The switch of the banner every page shows: whose record the record pages act on."""
    banner = page.get_by_test_id("acting-banner")
    banner.get_by_label("Dossier sur lequel agir").select_option(label=option)
    with next_document(page):
        banner.get_by_role("button", name="Changer de dossier").click()


def answers_404(page, inspector, site: str, document: Document, step: str) -> None:
    """The document's page (checked: the error page too is French and accessible), its file
    and its download, all 404 as for a document that does not exist."""
    response = page.goto(f"{site}/records/{document.uid}/")
    assert response is not None and response.status == 404
    inspector.check(page, step)
    for suffix in ("content/", "download/"):
        assert page.request.get(f"{site}/records/{document.uid}/{suffix}").status == 404


def enrol_claire(page, inspector, site: str, claire: Beneficiary) -> None:
    """Claire's own record by post, to her first login with an authenticator app."""
    code = ask_and_read_code(page, inspector, site, claire, "creation_code", "enrol")
    page.goto(site + "/enrollment/activate/")
    inspector.check(page, "activate")
    fill_by_keyboard(page, {"nir": claire.nir, "creation_code": code})
    inspector.check(page, "password")
    fill_by_keyboard(page, {"new_password1": CLAIRE_PASSWORD, "new_password2": CLAIRE_PASSWORD})
    inspector.check(page, "enrolled")
    identifier = page.get_by_test_id("identifier").inner_text().strip()
    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "login")
    fill_by_keyboard(page, {"username": identifier, "password": CLAIRE_PASSWORD})
    set_up_app(page, inspector, "setup")


def enrol_zoe(page, inspector, site: str, claire: Beneficiary, zoe: Beneficiary) -> None:
    """Zoé's number typed twice; the letter to Claire, by name; its code typed by Claire,
    logged in."""
    page.goto(site + "/enrollment/")
    inspector.check(page, "child")
    fill_by_keyboard(page, {"nir": zoe.nir, "nir_confirmation": zoe.nir})
    inspector.check(page, "child-sent")
    letter = letters_for(zoe)[claire.pk]
    assert "Claire" in letter_text(letter)
    page.goto(site + "/enrollment/activate/")
    fill_by_keyboard(page, {"nir": zoe.nir, "creation_code": code_from_letter(letter)})
    inspector.check(page, "represented")
    expect(page.get_by_test_id("represented")).to_contain_text("Zoé Martin")


def claire_sees_no_trace(page, inspector, site: str, confidential: Document) -> None:
    """Zoé's record as Claire sees it after Dr Bernard's upload: her own document only."""
    page.goto(site + "/records/")
    inspector.check(page, "acting-record-after")
    main = page.get_by_role("main")
    expect(main.get_by_role("link", name=CERTIFICATE)).to_be_visible()
    expect(main).not_to_contain_text(CONFIDENTIAL)
    expect(main.get_by_role("status")).to_have_text("1 document")
    expect(main.locator('select[name="category"]')).not_to_contain_text("Biologie")
    page.goto(site + "/access/history/")
    inspector.check(page, "acting-history")
    # Dr Bernard's reads of the record are there; her upload is not, in any words.
    lines = page.get_by_role("main").get_by_role("table")
    expect(lines).to_contain_text("Chloé Bernard")
    expect(lines).not_to_contain_text("Déposer un document")
    expect(page.get_by_role("main")).not_to_contain_text(CONFIDENTIAL)
    answers_404(page, inspector, site, confidential, "acting-confidential-404")


def claire_is_back_on_her_own(page, inspector, site: str, *documents: Document) -> None:
    """Her next request, the day Zoé is 18: her own record, told why, no switch any more; each
    of Zoé's documents answers 404."""
    page.goto(site + "/records/")
    inspector.check(page, "acting-ended")
    expect(page.get_by_role("main")).to_contain_text("Vous ne pouvez plus agir")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    expect(page.get_by_role("main")).not_to_contain_text(CERTIFICATE)
    expect(page.get_by_label("Dossier sur lequel agir")).to_have_count(0)
    for number, document in enumerate(documents, start=1):
        answers_404(page, inspector, site, document, f"ended-404-{number}")


def zoe_takes_over(page, inspector, site: str, zoe: Beneficiary, username: str) -> None:
    """The takeover letter's code, a password, the first login with an authenticator app."""
    letter = Letter.objects.get(subject_uid=zoe.uid, kind="majority_code")
    page.goto(site + "/enrollment/activate/")
    inspector.check(page, "takeover")
    fill_by_keyboard(page, {"nir": zoe.nir, "creation_code": code_from_letter(letter)})
    inspector.check(page, "takeover-password")
    expect(page.get_by_role("main")).to_contain_text("Vous avez atteint la majorité")
    fill_by_keyboard(page, {"new_password1": ZOE_PASSWORD, "new_password2": ZOE_PASSWORD})
    inspector.check(page, "taken-over")
    expect(page.get_by_test_id("identifier")).to_have_text(username)
    follow(page, page.get_by_role("main").get_by_role("link", name="Se connecter"))
    inspector.check(page, "first-login")
    fill_by_keyboard(page, {"username": username, "password": ZOE_PASSWORD})
    set_up_app(page, inspector, "her-setup")


def zoe_sees_everything(page, inspector, site: str) -> None:
    page.goto(site + "/records/")
    inspector.check(page, "her-record")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    expect(page.get_by_role("link", name=CERTIFICATE)).to_be_visible()
    expect(page.get_by_role("link", name=CONFIDENTIAL)).to_be_visible()
    expect(page.get_by_role("main").get_by_role("status")).to_have_text("2 documents")
    follow(page, page.get_by_role("link", name=CONFIDENTIAL))
    inspector.check(page, "her-confidential")
    page.goto(site + "/access/history/")
    inspector.check(page, "her-history")
    lines = page.get_by_role("main").get_by_role("table")
    expect(lines).to_contain_text("Déposer un document")
    expect(lines).to_contain_text(CONFIDENTIAL)
    expect(lines).to_contain_text("Reprise du dossier à la majorité par courrier")


def test_a_child_of_a_parent_takes_over_at_18_with_their_confidential_care(
    site, new_page, inspector, django_capture_on_commit_callbacks
):
    birthday = a_birthday_ahead()
    # Frozen (no tick) until midnight is chosen: no session idles out and no code expires
    # however slowly the browser goes, and the birthday comes exactly when the story says.
    with time_machine.travel(at(birthday - timedelta(days=1), 23, 50), tick=False) as clock:
        claire = make_beneficiary(first_name="Claire", last_name="Martin")
        zoe = make_beneficiary(
            first_name="Zoé", last_name="Martin", born=birthday.replace(year=birthday.year - 18)
        )
        RegistryRepresentative.objects.create(child=zoe, representative=claire)

        # Claire's own record, then Zoé's, which she manages.
        parent = inspector.watch(new_page())
        enrol_claire(parent, inspector, site, claire)
        enrol_zoe(parent, inspector, site, claire, zoe)
        claire.refresh_from_db()
        zoe.refresh_from_db()
        child = zoe.patient

        # As Zoé's legal representative, a document added to Zoé's record.
        parent.goto(site + "/summary/")
        inspector.check(parent, "summary")
        switch_to(parent, "Zoé Martin (représentant légal)")
        inspector.check(parent, "acting-record")
        expect(parent.get_by_test_id("acting-banner")).to_contain_text(
            "Vous agissez pour le dossier de Zoé Martin en tant que représentant légal."
        )
        expect(parent.get_by_role("heading", level=1)).to_have_text("Dossier de Zoé Martin")
        add_document(parent, inspector, "acting-upload", CERTIFICATE, "Certificats")
        certificate = Document.objects.get(patient=child)
        # Zoé's own document (she may delete it, add a version), added by Claire as her
        # representative: so says the trail.
        assert certificate.author_id == child.pk
        assert AuditEvent.objects.filter(
            action=Action.UPLOAD,
            document_uid=certificate.uid,
            actor=claire.patient,
            patient=child,
            mode=Mode.REPRESENTATIVE,
        ).exists()

        # Dr Bernard, whom Zoé's record lets read it, keeps a document from the representatives.
        profile = PractitionerProfileFactory(last_name="Bernard", first_name="Chloé")
        pro_device = add_totp(profile.user)
        Consent.objects.create(patient=child, practitioner=profile.user)
        pro = inspector.watch(new_page())
        log_in(pro, inspector, site, profile.user.username, PRO_PASSWORD, totp_token(pro_device))
        inspector.check(pro, "pro-home")
        pro.goto(f"{site}/pro/patients/{child.pk}/")
        inspector.check(pro, "pro-record")
        add_document(pro, inspector, "pro-upload", CONFIDENTIAL, "Biologie", confidential=True)
        confidential = Document.objects.get(patient=child, confidential_from_representatives=True)

        claire_sees_no_trace(parent, inspector, site, confidential)

        # Midnight: Zoé is 18, and the daily beat runs.
        clock.move_to(at(birthday, 0, 0, 30))
        with django_capture_on_commit_callbacks(execute=True):
            assert queue_majorities() == 1

        claire_is_back_on_her_own(parent, inspector, site, certificate, confidential)
        me = inspector.watch(new_page())
        zoe_takes_over(me, inspector, site, zoe, child.username)
        zoe_sees_everything(me, inspector, site)
