"""Issue 16 in Chromium: a result held back until an announcement consultation.

A practitioner uploads a result and holds it back from the patient until they have announced it.
The patient, signed in on another device, finds no trace of it: not in their record's list, not
in the count of their summary, not in their access history, and no e-mail. The practitioner
announces it and reveals it from the document's page: the patient then sees it in each of those
places, and is told by e-mail, once. Every page is checked by the inspector (French, labels,
axe at 0 violations, no sideways scroll at 320 px); the key steps are typed with the keyboard.

The patient then takes a copy of the record away (/records/export/): the revealed result's
current version is in the ZIP, and the FHIR Bundle validates with its hashes and sizes matching
the files beside it.
"""

from __future__ import annotations

import hashlib
import zipfile

from django.core import mail
from fhir.resources.R4B.bundle import Bundle
from playwright.sync_api import expect

from access_control.models import Consent, RecordSettings
from audit.models import Action, AuditEvent, Outcome
from records.models import Document
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    give_verified_email,
    next_totp_token,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard, next_document, tab_to
from tests.e2e.steps import follow, log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary

TITLE = "Résultat de biopsie hépatique"


def test_a_result_held_until_its_announcement_reaches_the_patient_once_revealed(
    site, new_page, inspector, tmp_path
):
    patient = UserFactory()
    person = make_beneficiary(last_name="Martin", first_name="Léa")
    person.patient = patient
    person.save()
    patient_device = add_totp(patient)
    give_verified_email(patient, "lea.martin@example.fr")
    RecordSettings.objects.update_or_create(patient=patient, defaults={"notify_new_document": True})
    profile = PractitionerProfileFactory(last_name="Bernard", first_name="Chloé")
    pro_device = add_totp(profile.user)
    Consent.objects.create(patient=patient, practitioner=profile.user)

    # The practitioner uploads the result, held back until the announcement.
    pro = inspector.watch(new_page())
    log_in(pro, inspector, site, profile.user.username, PASSWORD, totp_token(pro_device))
    inspector.check(pro, "pro-home")
    pro.goto(f"{site}/pro/patients/{patient.pk}/")
    inspector.check(pro, "pro-record")
    mail.outbox.clear()  # the notice of the practitioner's first access is not this journey's
    follow(pro, pro.get_by_role("link", name="Ajouter un document"))
    inspector.check(pro, "pro-upload")
    pro.set_input_files(
        'input[type="file"]',
        files=[
            {
                "name": "biopsie.pdf",
                "mimeType": "application/pdf",
                "buffer": one_page_pdf("Biopsie : résultat"),
            }
        ],
    )
    fill_by_keyboard(pro, {"title": TITLE, "category": "Biologie"}, submit=False)
    tab_to(pro, '[name="held"]')
    pro.keyboard.press("Space")
    expect(pro.locator('[name="held"]')).to_be_checked()
    tab_to(pro, 'main form button[type="submit"]')
    with next_document(pro):
        pro.keyboard.press("Enter")
    inspector.check(pro, "pro-uploaded")
    document = Document.objects.get(patient=patient)
    assert document.hidden_from_patient_until is not None
    assert mail.outbox == []  # no e-mail at the upload of a held document

    # The patient finds no trace of it.
    me = inspector.watch(new_page())
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(patient_device), "me")
    inspector.check(me, "me-summary-held")
    expect(me.get_by_text(TITLE)).to_have_count(0)
    expect(me.get_by_text("(1 document)")).to_have_count(0)
    me.goto(site + "/records/")
    inspector.check(me, "me-record-held")
    expect(me.get_by_text(TITLE)).to_have_count(0)
    me.goto(site + "/access/history/")
    inspector.check(me, "me-history-held")
    rows = me.locator("table.data-table tbody tr")
    expect(rows.filter(has_text="Déposer un document")).to_have_count(0)
    expect(me.get_by_text("Document pas encore disponible")).to_have_count(0)
    assert me.goto(f"{site}/records/{document.uid}/").status == 404
    inspector.check(me, "me-document-refused")

    # Announced in consultation, the practitioner reveals it from its page.
    pro.goto(f"{site}/pro/patients/{patient.pk}/")
    inspector.check(pro, "pro-record-held")
    follow(pro, pro.get_by_role("link", name=TITLE))
    inspector.check(pro, "pro-document-held")
    expect(pro.get_by_test_id("held")).to_be_visible()
    follow(pro, pro.get_by_role("button", name="Je l'ai annoncé : le montrer au patient"))
    inspector.check(pro, "pro-revealed")
    expect(pro.get_by_test_id("held")).to_have_count(0)
    assert AuditEvent.objects.filter(
        patient=patient, action=Action.REVEAL, outcome=Outcome.ALLOWED
    ).exists()

    # A corrected result: a new version, through the same checks as an upload.
    follow(pro, pro.get_by_role("link", name="Ajouter une nouvelle version"))
    inspector.check(pro, "pro-replace")
    expect(pro.get_by_label("Titre")).to_have_value(TITLE)
    pro.set_input_files(
        'input[type="file"]',
        files=[
            {
                "name": "biopsie-v2.pdf",
                "mimeType": "application/pdf",
                "buffer": one_page_pdf("Biopsie : résultat corrigé"),
            }
        ],
    )
    tab_to(pro, 'main form button[type="submit"]')
    with next_document(pro):
        pro.keyboard.press("Enter")
    inspector.check(pro, "pro-new-version")
    versions = pro.get_by_test_id("versions")
    expect(versions.get_by_role("row")).to_have_count(3)  # the heading row and two versions
    follow(pro, versions.get_by_role("link", name="Ouvrir cette version"))
    inspector.check(pro, "pro-earlier-version")
    expect(pro.get_by_test_id("earlier-version")).to_be_visible()

    # The patient sees it everywhere now, and was told once.
    me.goto(site + "/summary/")
    inspector.check(me, "me-summary-revealed")
    expect(me.get_by_text("(1 document)")).to_be_visible()
    me.goto(site + "/records/")
    inspector.check(me, "me-record-revealed")
    expect(me.get_by_role("link", name=TITLE)).to_be_visible()
    me.goto(site + "/access/history/")
    inspector.check(me, "me-history-revealed")
    expect(me.get_by_text(TITLE).first).to_be_visible()
    expect(rows.filter(has_text="Déposer un document")).to_have_count(1)
    notices = [m for m in mail.outbox if m.to == ["lea.martin@example.fr"]]
    # Told once of the reveal, then of the new version (never of the held upload).
    assert [notice.subject for notice in notices] == [
        "Un document est désormais disponible dans votre dossier médical partagé",
        "Un nouveau document dans votre dossier médical partagé",
    ]
    assert not any(TITLE in notice.body for notice in notices)
    follow(me, me.get_by_role("link", name="Mon dossier"))
    inspector.check(me, "me-record")

    # The patient takes a copy of the record away: the revealed result's current version is in
    # it, the FHIR Bundle validates, and its hashes and sizes are those of the files in the ZIP.
    follow(me, me.get_by_role("link", name="Télécharger une copie de mon dossier"))
    inspector.check(me, "me-export")
    fill_by_keyboard(me, {"otp_token": next_totp_token(patient_device)}, submit=False)
    tab_to(me, me.get_by_role("button", name="Télécharger la copie (fichier ZIP)"))
    with me.expect_download() as download_info:
        me.keyboard.press("Enter")
    target = tmp_path / download_info.value.suggested_filename
    download_info.value.save_as(target)
    with zipfile.ZipFile(target) as archive:
        files = {name: archive.read(name) for name in archive.namelist()}
    bundle = Bundle.model_validate_json(files["dossier.fhir.json"])  # R4 through fhir.resources
    references = [
        entry.resource
        for entry in bundle.entry or []
        if entry.resource is not None and entry.resource.get_resource_type() == "DocumentReference"
    ]
    assert [reference.description for reference in references] == [TITLE]
    attachment = references[0].content[0].attachment
    content = files[attachment.url]
    current = Document.objects.get(patient=patient, status="current")
    assert hashlib.sha256(content).hexdigest() == current.sha256  # the new version's file
    assert attachment.size == len(content)
    # fhir.resources decodes the base64Binary: the SHA-1 of the file, as R4 defines it.
    assert attachment.hash == hashlib.sha1(content).digest()
    assert TITLE in files["index.html"].decode()
    assert AuditEvent.objects.filter(
        patient=patient, action=Action.EXPORT, outcome=Outcome.ALLOWED
    ).exists()
