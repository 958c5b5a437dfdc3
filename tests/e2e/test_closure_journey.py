"""Issue 16, item 4 in Chromium: the patient closes their record, sees it closed, reopens it.

With the keyboard alone: from the summary to the closure page (its warning first), a wrong
password refused in French with nothing changed, then the password and a fresh code; the
summary and the record's page then say the record is closed, with the way to reopen it; the
practitioner who read it is refused; the patient reopens it, and the banner goes. Every page is
checked by the inspector (French, labels, axe at 0 violations, no sideways scroll at 320 px).
"""

from __future__ import annotations

import time

from playwright.sync_api import expect

from access_control.models import Consent, RecordClosure
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    next_totp_token,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import expect_error, follow, log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document

CLOSED = "Votre dossier est fermé"


def fresh_code(device) -> str:
    """The next code the device accepts: a code works once, and one more than a step ahead of
    the clock is refused, so wait for the clock when the last one used was the current one."""
    device.refresh_from_db()
    while int(time.time()) // device.step < device.last_t:
        time.sleep(1)
    return next_totp_token(device)


def test_the_patient_closes_the_record_sees_it_closed_and_reopens_it(site, new_page, inspector):
    patient = UserFactory()
    person = make_beneficiary(last_name="Martin", first_name="Léa")
    person.patient = patient
    person.save()
    add_document(patient, title="Radiographie du genou", content=one_page_pdf("Genou droit"))
    device = add_totp(patient)
    profile = PractitionerProfileFactory(last_name="Bernard", first_name="Chloé")
    pro_device = add_totp(profile.user)
    Consent.objects.create(patient=patient, practitioner=profile.user)

    pro = inspector.watch(new_page())
    log_in(pro, inspector, site, profile.user.username, PASSWORD, totp_token(pro_device), "pro")
    inspector.check(pro, "pro-after-login")
    record = f"{site}/pro/patients/{patient.pk}/"
    assert pro.goto(record).status == 200
    inspector.check(pro, "pro-record")

    me = inspector.watch(new_page())
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(device), "me")
    me.goto(site + "/summary/")
    inspector.check(me, "summary-open")
    follow(me, me.get_by_role("link", name="Fermer mon dossier"))
    inspector.check(me, "close-page")
    warning = me.get_by_role("heading", name="Ce que la fermeture de votre dossier entraîne")
    expect(warning).to_be_visible()
    expect(me.get_by_text("10 ans", exact=False)).to_be_visible()

    # A wrong password: refused in French, nothing changes.
    fill_by_keyboard(me, {"password": "pas mon mot de passe", "otp_token": fresh_code(device)})
    inspector.check(me, "close-wrong-password")
    expect_error(me, "Ce n'est pas votre mot de passe actuel.")
    assert not RecordClosure.objects.filter(patient=patient).exists()

    me.goto(site + "/records/close/")
    fill_by_keyboard(me, {"password": PASSWORD, "otp_token": fresh_code(device)})
    inspector.check(me, "summary-closed")
    assert me.url.endswith("/summary/")
    expect(me.get_by_role("heading", name=CLOSED)).to_be_visible()
    assert RecordClosure.objects.filter(patient=patient).exists()

    me.goto(site + "/records/")
    inspector.check(me, "records-closed")
    expect(me.get_by_role("heading", name=CLOSED)).to_be_visible()
    expect(me.get_by_role("link", name="Radiographie du genou")).to_be_visible()

    # The practitioner who read it a moment ago: refused, like any record not open to them.
    assert pro.goto(record).status == 404
    inspector.check(pro, "pro-refused")

    follow(me, me.get_by_role("link", name="Rouvrir mon dossier"))
    inspector.check(me, "reopen-page")
    fill_by_keyboard(me, {"password": PASSWORD, "otp_token": fresh_code(device)})
    inspector.check(me, "summary-reopened")
    expect(me.get_by_role("heading", name=CLOSED)).to_have_count(0)
    assert not RecordClosure.objects.filter(patient=patient).exists()
    # Reopening gives nothing back: the practitioner waits for a new consent.
    assert pro.goto(record).status == 404
