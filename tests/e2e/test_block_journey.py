"""Issue 14, item 3 in Chromium: what the patient's page says is what the door decides.

A practitioner reads a record under an emergency access: the patient's page lists them among
those who may read, and the practitioner sees the red banner. The patient blocks them with the
keyboard: the emergency ends at once, the row leaves the list, the banner goes, the record
answers 404; lifting the block gives nothing back, as the page says. Every page is checked by the
inspector (French, labels, axe at 0 violations, no sideways scroll at 320 px).
"""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from access_control.models import Block, EmergencyAccess
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import follow, log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document


def test_a_block_ends_an_emergency_in_progress_and_every_page_says_so(site, new_page, inspector):
    patient = UserFactory()
    person = make_beneficiary(last_name="Martin", first_name="Léa")
    person.patient = patient
    person.save()
    add_document(patient, title="Radiographie du genou", content=one_page_pdf("Genou droit"))
    patient_device = add_totp(patient)
    profile = PractitionerProfileFactory(last_name="Bernard", first_name="Chloé")
    pro_device = add_totp(profile.user)
    now = timezone.now()
    emergency = EmergencyAccess.objects.create(
        patient=patient,
        practitioner=profile.user,
        reason="Patiente inconsciente aux urgences.",
        started_at=now - timedelta(minutes=5),
        ends_at=now + timedelta(minutes=55),
    )

    pro = inspector.watch(new_page())
    log_in(pro, inspector, site, profile.user.username, PASSWORD, totp_token(pro_device))
    inspector.check(pro, "pro-after-login")
    record = f"{site}/pro/patients/{patient.pk}/"
    assert pro.goto(record).status == 200
    inspector.check(pro, "pro-emergency-record")
    expect(pro.locator(".emergency-banner")).to_be_visible()

    me = inspector.watch(new_page())
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(patient_device), "me")
    inspector.check(me, "me-after-login")
    me.goto(site + "/access/")
    inspector.check(me, "readers-with-emergency")
    readers = me.get_by_test_id("readers")
    expect(readers.get_by_role("row").filter(has_text="Bernard")).to_contain_text(
        "accès en urgence"
    )

    fill_by_keyboard(me, {"block-rpps": profile.rpps})
    inspector.check(me, "blocked")
    expect(me.get_by_test_id("readers")).to_have_count(0)
    expect(
        me.get_by_text("Aucun professionnel n'est autorisé à lire votre dossier.")
    ).to_be_visible()
    expect(me.get_by_text(re.compile("Lever un blocage ne rétablit rien"))).to_be_visible()
    emergency.refresh_from_db()
    assert emergency.ends_at <= timezone.now()  # ended, and still in the patient's list

    # The practitioner's very next request: refused, and no banner anywhere.
    assert pro.goto(record).status == 404
    inspector.check(pro, "pro-refused-after-block")
    expect(pro.locator(".emergency-banner")).to_have_count(0)

    follow(me, me.get_by_role("button", name="Lever le blocage"))
    inspector.check(me, "block-lifted")
    assert not Block.objects.active().exists()
    expect(me.get_by_test_id("readers")).to_have_count(0)
    assert pro.goto(record).status == 404  # lifting gave nothing back
    inspector.check(pro, "pro-refused-after-lift")
