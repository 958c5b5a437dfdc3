"""Issue 17, item 4 in Chromium: a minor's confidential care (public health code art. L1111-5).

A practitioner with consent adds a document to a minor's record and keeps it confidential from
the legal representatives with the upload's checkbox (offered on a minor's record only), with the
keyboard. The document's page says so and offers to lift it (the minor agreed), then to keep it
confidential again. The minor, signed in on another device, sees it in their record. No e-mail
about it. Every page is checked by the inspector (French, labels, axe at 0 violations, no
sideways scroll at 320 px). What a representative sees comes with item 3's pages (acting for
someone): the door's rule and the lists are tested in
tests/access_control/test_confidential_door.py.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.core import mail
from django.utils import timezone
from playwright.sync_api import expect

from access_control.models import Consent, LegalRepresentation, RecordSettings
from records.models import Document
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    give_verified_email,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard, next_document, tab_to
from tests.e2e.steps import follow, log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary

TITLE = "Consultation de contraception"
BOX = '[name="confidential_from_representatives"]'


def a_year_on():
    """A representation's last day within the test's minority (the child is far from 18)."""
    return timezone.localdate() + timedelta(days=365)


def test_a_practitioner_keeps_a_minors_document_from_the_representatives(site, new_page, inspector):
    minor = UserFactory()
    person = make_beneficiary(last_name="Martin", first_name="Inès", born=date(2011, 3, 4))
    person.patient = minor
    person.save()
    minor_device = add_totp(minor)
    give_verified_email(minor, "ines.martin@example.fr")
    RecordSettings.objects.update_or_create(patient=minor, defaults={"notify_new_document": True})
    LegalRepresentation.objects.create(minor=minor, representative=UserFactory(), until=a_year_on())
    profile = PractitionerProfileFactory(last_name="Bernard", first_name="Chloé")
    pro_device = add_totp(profile.user)
    Consent.objects.create(patient=minor, practitioner=profile.user)

    pro = inspector.watch(new_page())
    log_in(pro, inspector, site, profile.user.username, PASSWORD, totp_token(pro_device))
    inspector.check(pro, "pro-home")
    pro.goto(f"{site}/pro/patients/{minor.pk}/")
    inspector.check(pro, "pro-record")
    mail.outbox.clear()  # the notice of the practitioner's first access is not this journey's
    follow(pro, pro.get_by_role("link", name="Ajouter un document"))
    inspector.check(pro, "pro-upload-minor")
    pro.set_input_files(
        'input[type="file"]',
        files=[
            {
                "name": "contraception.pdf",
                "mimeType": "application/pdf",
                "buffer": one_page_pdf("Consultation"),
            }
        ],
    )
    fill_by_keyboard(pro, {"title": TITLE, "category": "Biologie"}, submit=False)
    tab_to(pro, BOX)
    pro.keyboard.press("Space")
    expect(pro.locator(BOX)).to_be_checked()
    tab_to(pro, 'main form button[type="submit"]')
    with next_document(pro):
        pro.keyboard.press("Enter")
    inspector.check(pro, "pro-uploaded")
    document = Document.objects.get(patient=minor)
    assert document.confidential_from_representatives
    assert mail.outbox == []  # the minor's mailbox may be read by their representatives

    follow(pro, pro.get_by_role("link", name=TITLE))
    inspector.check(pro, "pro-document-confidential")
    expect(pro.get_by_test_id("confidential")).to_be_visible()
    follow(
        pro,
        pro.get_by_role(
            "button", name="Le mineur est d'accord : le montrer aux représentants légaux"
        ),
    )
    inspector.check(pro, "pro-lifted")
    expect(pro.get_by_test_id("confidential")).to_have_count(0)
    document.refresh_from_db()
    assert not document.confidential_from_representatives
    follow(
        pro,
        pro.get_by_role("button", name="Le garder confidentiel vis-à-vis des représentants légaux"),
    )
    inspector.check(pro, "pro-confidential-again")
    expect(pro.get_by_test_id("confidential")).to_be_visible()

    # The minor sees it in their record.
    me = inspector.watch(new_page())
    log_in(me, inspector, site, minor.username, PASSWORD, totp_token(minor_device), "me")
    inspector.check(me, "me-summary")
    me.goto(site + "/records/")
    inspector.check(me, "me-record")
    expect(me.get_by_role("link", name=TITLE)).to_be_visible()
    assert mail.outbox == []
