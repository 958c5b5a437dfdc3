"""Layout at every width the portal supports (320, 375, 1280, 1920 px).

Tables wrap between words only: no word and no date is cut across two lines, and the page
never scrolls sideways; every checkbox has the same size; every aria-describedby names an
element that exists and holds text. The backup codes page offers a print button and a text
file holding exactly the codes.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from playwright.sync_api import Page, expect

from access_control.models import Consent, EmergencyAccess
from accounts.services.keys import ensure_data_key
from audit.models import Action, Mode, Outcome
from audit.trail import record_event
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    totp_token,
)
from tests.e2e.browser import axe_violations, fill_by_keyboard, horizontal_overflow
from tests.e2e.layout import DANGLING_DESCRIPTIONS, WIDTHS, broken_words, check_every_width
from tests.e2e.steps import log_in, one_page_pdf, totp_from_secret
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document

# Long words and long titles: the words a narrow column would be tempted to cut.
LONG_TITLE = (
    "Électroencéphalogramme et échocardiographie transthoracique de contrôle postopératoire "
    "après cholécystectomie cœlioscopique"
)

CHECKBOX_SIZES = """() => Array.from(document.querySelectorAll('input[type=checkbox]'))
    .map((el) => { const r = el.getBoundingClientRect(); return [r.width, r.height]; })"""


def _check_every_width(page: Page, where: str) -> int:
    """At each width: no word or date cut, no sideways scroll, axe at 0, descriptions that
    exist. Returns how many <time> elements the page holds."""
    check_every_width(page, where)
    # Between them, every 40 px: the layout must hold at any width, not only at four.
    for width in range(320, 1921, 40):
        page.set_viewport_size({"width": width, "height": 900})
        assert broken_words(page) == [], f"{where} at {width} px"
        assert horizontal_overflow(page) == 0, f"{where} scrolls sideways at {width} px"
    return page.locator("main time").count()


def _patient_with_tables():
    """A patient whose tables hold long words and dates, and the professional who may read it."""
    patient = UserFactory()
    ensure_data_key(patient)
    person = make_beneficiary(last_name="Garnier", first_name="Odile", born=date(1950, 2, 3))
    person.patient = patient
    person.save()
    for day in range(1, 4):
        add_document(
            patient,
            title=f"{LONG_TITLE} {day}",
            act_date=date(2026, 3, day),
            content=one_page_pdf("Compte rendu"),
        )
    doctor = PractitionerProfileFactory(
        first_name="Marie-Laure", last_name="Delacroix-Montgolfier", specialty="Anesthésiologie"
    )
    Consent.objects.create(
        patient=patient, practitioner=doctor.user, expires_at=timezone.now() + timedelta(days=90)
    )
    urgent = PractitionerProfileFactory(first_name="Bertrand", last_name="Vandenberghe")
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=urgent.user,
        reason="Perte de connaissance prolongée aux urgences",
        ends_at=timezone.now() + timedelta(minutes=45),
    )
    with transaction.atomic():
        for action in (Action.LIST, Action.VIEW, Action.DOWNLOAD):
            record_event(actor=doctor.user, patient=patient, action=action, outcome=Outcome.ALLOWED)
        record_event(
            actor=urgent.user,
            patient=patient,
            action=Action.LIST,
            outcome=Outcome.ALLOWED,
            mode=Mode.EMERGENCY,
        )
    return patient, doctor.user


def test_tables_never_cut_a_word_or_a_date_from_320_to_1920_px(site, new_page, inspector):
    patient, _ = _patient_with_tables()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "layout-summary")

    page.goto(site + "/records/")
    inspector.check(page, "layout-records")
    expect(page.locator(".data-table tbody tr")).to_have_count(3)
    assert _check_every_width(page, "records") == 3

    page.set_viewport_size(WIDTHS[2])
    page.goto(site + "/access/")
    inspector.check(page, "layout-access")
    expect(page.get_by_test_id("readers")).to_contain_text("Delacroix-Montgolfier")
    assert _check_every_width(page, "access overview") >= 4

    page.set_viewport_size(WIDTHS[2])
    page.goto(site + "/access/history/?show=others")
    inspector.check(page, "layout-history")
    assert page.locator(".data-table tbody tr").count() >= 4
    assert _check_every_width(page, "history") >= 4


def test_the_practitioners_view_of_a_record_never_cuts_a_word(site, new_page, inspector):
    patient, doctor = _patient_with_tables()
    device = add_totp(doctor)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, doctor.username, PASSWORD, totp_token(device))
    inspector.check(page, "layout-workspace")
    page.goto(f"{site}/pro/patients/{patient.pk}/")
    inspector.check(page, "layout-pro-record")
    expect(page.locator(".data-table tbody tr")).to_have_count(3)
    assert _check_every_width(page, "practitioner's view of the record") == 3


def test_the_check_sees_a_word_cut_in_a_table(site, new_page, inspector):
    """What the rule in portal.css prevents: with overflow-wrap: anywhere, a narrow table cuts
    its words and dates, and the check says so."""
    patient, _ = _patient_with_tables()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "layout-summary")
    page.goto(site + "/records/")
    inspector.check(page, "layout-records-broken")
    page.set_viewport_size(WIDTHS[2])
    # Through the CSSOM: the CSP (rightly) refuses an added <style> element.
    page.evaluate(
        """() => {
            for (const table of document.querySelectorAll('.data-table')) {
                table.style.setProperty('overflow-wrap', 'anywhere', 'important');
                table.style.setProperty('width', '12rem', 'important');
            }
            for (const time of document.querySelectorAll('time')) {
                time.style.setProperty('white-space', 'normal', 'important');
            }
        }"""
    )
    assert broken_words(page) != []


def test_checkboxes_share_one_size(site, new_page, inspector):
    patient, _ = _patient_with_tables()
    device = add_totp(patient)
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "layout-summary")
    page.goto(site + "/access/settings/")
    inspector.check(page, "layout-settings")
    for size in (WIDTHS[0], WIDTHS[2]):
        page.set_viewport_size(size)
        sizes = page.evaluate(CHECKBOX_SIZES)
        assert len(sizes) >= 5
        assert len({tuple(pair) for pair in sizes}) == 1, sizes
        width, height = sizes[0]
        assert width == height >= 24  # WCAG 2.5.8: a target of at least 24 px
        assert page.evaluate(DANGLING_DESCRIPTIONS) == []


def test_backup_codes_can_be_printed_and_downloaded(site, new_page, inspector):
    person = UserFactory()
    page = inspector.watch(new_page())
    page.goto(site + "/accounts/login/")
    inspector.check(page, "layout-login")
    fill_by_keyboard(page, {"username": person.username, "password": PASSWORD})
    expect(page).to_have_url(re.compile(r"/accounts/2fa/setup/"))
    inspector.check(page, "layout-totp-setup")
    secret = page.get_by_test_id("totp-secret").inner_text()
    fill_by_keyboard(page, {"otp_token": totp_from_secret(secret)})
    inspector.check(page, "layout-backup-codes")
    codes = page.get_by_test_id("backup-codes").locator("li").all_inner_texts()
    assert len(codes) == 10

    print_button = page.get_by_role("button", name="Imprimer les codes")
    expect(print_button).to_be_visible()
    # window.print() is replaced so that the headless browser does not wait on a dialog.
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1; }; }")
    print_button.click()
    assert page.evaluate("() => window.printed") == 1

    # Printed, the page shows the codes and nothing else: no header, menu, footer or button.
    page.emulate_media(media="print")
    expect(page.get_by_test_id("backup-codes")).to_be_visible()
    for hidden in ("header", "footer", "h1", ".backup-actions"):
        expect(page.locator(hidden).first).to_be_hidden()
    expect(page.get_by_role("link", name="J'ai conservé mes codes, continuer")).to_be_hidden()
    page.emulate_media(media="screen")

    requests = []
    page.on("request", lambda request: requests.append(request.url))
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger les codes (fichier texte)").click()
    download = download_info.value
    assert download.suggested_filename == "codes-de-secours-dmp.txt"
    text = open(download.path(), encoding="utf-8").read()  # noqa: SIM115
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == "Codes de secours du dossier médical partagé"
    assert lines[-10:] == codes
    assert requests == []  # the codes never went back to the server

    for size in WIDTHS:
        page.set_viewport_size(size)
        assert horizontal_overflow(page) == 0
        assert axe_violations(page) == []
