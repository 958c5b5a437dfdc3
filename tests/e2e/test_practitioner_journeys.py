"""A practitioner's journeys in Chromium: invitation, consent given and taken back, emergency.

Two browser contexts, one per person, as on two devices. Every page shown is checked by the
inspector (see browser.py); the key forms are filled with the keyboard alone.
"""

from __future__ import annotations

import re
from datetime import date

from django.core import mail
from django.core.management import call_command
from playwright.sync_api import expect

from access_control.models import Consent, EmergencyAccess, RecordSettings
from tests.accounts.factories import (
    PASSWORD,
    UserFactory,
    add_totp,
    give_verified_email,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import expect_error, follow, log_in, one_page_pdf, totp_from_secret
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.records.factories import add_document

PRO_PASSWORD = "le stéthoscope du lundi matin"
RPPS = "10003456786"
NIR = make_nir(born=date(1985, 5, 14))
# Grouped as on the Vitale card: 1 85 05 78 006 084 91.
NIR_GROUPED = " ".join((NIR[0], NIR[1:3], NIR[3:5], NIR[5:7], NIR[7:10], NIR[10:13], NIR[13:]))


def _patient_with_record():
    """A patient with a beneficiary entry (their identity) and one document."""
    patient = UserFactory()
    person = make_beneficiary(nir=NIR, last_name="Martin", first_name="Léa")
    person.patient = patient
    person.save()
    add_document(patient, title="Radiographie du genou", content=one_page_pdf("Genou droit"))
    return patient, add_totp(patient)


def _invite_practitioner(tmp_path) -> str:
    """The import of the RPPS extract e-mails an activation link: the address it gives."""
    csv = tmp_path / "rpps.csv"
    csv.write_text(
        "rpps,last_name,first_name,profession,specialty,email\n"
        f"{RPPS},Bernard,Chloé,medecin,Rhumatologie,chloe.bernard@example.fr\n",
        encoding="utf-8",
    )
    call_command("import_practitioners", str(csv))
    (invitation,) = [m for m in mail.outbox if "chloe.bernard@example.fr" in m.to]
    match = re.search(r"https?://\S+?(/accounts/activate/\S+/)", str(invitation.body))
    assert match, invitation.body
    return match.group(1)


def _activate_practitioner(page, inspector, site, link_path) -> str:
    page.goto(site + link_path)
    inspector.check(page, "pro-activate")
    assert "/accounts/activate/set-password/" in page.url  # the token left the address bar
    fill_by_keyboard(page, {"new_password1": PRO_PASSWORD, "new_password2": PRO_PASSWORD})
    # Signed in by the activation, and sent straight to the second factor's setup.
    assert page.url.endswith("/accounts/2fa/setup/")
    inspector.check(page, "pro-totp-setup")
    secret = page.get_by_test_id("totp-secret").inner_text()
    fill_by_keyboard(page, {"otp_token": totp_from_secret(secret)})
    inspector.check(page, "pro-backup-codes")
    follow(page, page.get_by_role("link", name="J'ai conservé mes codes, continuer"))
    inspector.check(page, "pro-home")
    return secret


def _find_patient(page, inspector, site, step: str) -> None:
    page.goto(site + "/pro/")
    inspector.check(page, step)
    fill_by_keyboard(page, {"nir": NIR_GROUPED})
    inspector.check(page, step + "-result")


def test_consent_given_read_revoked_refused_and_seen_in_history(
    site, new_page, inspector, tmp_path
):
    patient, patient_device = _patient_with_record()
    document = patient.documents.get()
    link_path = _invite_practitioner(tmp_path)

    pro = inspector.watch(new_page())
    _activate_practitioner(pro, inspector, site, link_path)

    # Without consent: nothing of the record, not even a count.
    _find_patient(pro, inspector, site, "pro-search")
    expect(pro.get_by_text("ne vous a pas donné accès")).to_be_visible()
    expect(pro.get_by_text("Radiographie")).to_have_count(0)
    refused = pro.goto(f"{site}/pro/patients/{patient.pk}/")
    assert refused.status == 404
    inspector.check(pro, "pro-refused")

    # The patient gives access by RPPS number, typed with the keyboard.
    me = inspector.watch(new_page())
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(patient_device))
    inspector.check(me, "summary")  # where a patient lands after login
    me.goto(site + "/access/")
    inspector.check(me, "consents")
    fill_by_keyboard(me, {"rpps": "1000345678"})  # one digit short
    expect_error(me, "11 chiffres")
    expect(
        me.get_by_text("Aucun professionnel n'est autorisé à lire votre dossier.")
    ).to_be_visible()
    assert not Consent.objects.filter(patient=patient).exists()
    inspector.check(me, "consent-error")
    fill_by_keyboard(me, {"rpps": RPPS})
    inspector.check(me, "consent-given")
    expect(me.get_by_role("cell", name=re.compile("Bernard"))).to_be_visible()

    # The practitioner now reads the record, the patient's identity and the document.
    _find_patient(pro, inspector, site, "pro-search-again")
    follow(pro, pro.get_by_role("link", name="Ouvrir le dossier"))
    inspector.check(pro, "pro-record")
    expect(pro.locator(".identity .nir")).to_have_text(NIR_GROUPED)
    expect(pro.get_by_text("14/05/1985")).to_be_visible()
    follow(pro, pro.get_by_role("link", name="Radiographie du genou"))
    inspector.check(pro, "pro-document")
    assert pro.request.get(f"{site}/records/{document.uid}/content/").ok

    # Revoked: the very next request is refused, with the same 404 as for a stranger.
    me.goto(site + "/access/")
    follow(me, me.get_by_role("button", name="Retirer l'accès"))
    inspector.check(me, "consent-revoked")
    refused = pro.goto(f"{site}/records/{document.uid}/")
    assert refused.status == 404
    inspector.check(pro, "pro-refused-after-revocation")
    assert pro.request.get(f"{site}/records/{document.uid}/content/").status == 404

    # The patient sees all of it: the look-ups, the reads, and the refusals after revocation.
    follow(me, me.get_by_role("link", name="Voir tous les accès à mon dossier"))
    inspector.check(me, "history")
    rows = me.get_by_role("row").filter(has_text="Bernard")
    for action, outcome in (
        ("Rechercher un patient", "Autorisé"),
        ("Consulter la liste des documents", "Autorisé"),
        ("Consulter un document", "Autorisé"),
        ("Consulter un document", "Refusé"),
    ):
        expect(rows.filter(has_text=action).filter(has_text=outcome).first).to_be_visible()
    # Newest first: the last row about this document is the refusal after the revocation.
    newest = rows.filter(has_text="Radiographie du genou").first
    expect(newest).to_contain_text("Refusé")
    me.goto(site + "/access/history/?outcome=refused")
    inspector.check(me, "history-refusals")
    expect(me.get_by_role("row").filter(has_text="Bernard").first).to_contain_text("Refusé")
    expect(me.get_by_role("row").filter(has_text="Autorisé")).to_have_count(0)


def test_emergency_access_from_declaration_to_notification(site, new_page, inspector, tmp_path):
    patient, _ = _patient_with_record()
    RecordSettings.objects.update_or_create(patient=patient, defaults={"notify_emergency": True})
    give_verified_email(patient, "lea.martin@example.fr")
    link_path = _invite_practitioner(tmp_path)
    pro = inspector.watch(new_page())
    secret = _activate_practitioner(pro, inspector, site, link_path)

    _find_patient(pro, inspector, site, "pro-search")
    follow(pro, pro.get_by_role("link", name=re.compile("déclarer un accès en urgence")))
    inspector.check(pro, "emergency")

    # No reason given: refused with a message, nothing opened.
    fill_by_keyboard(pro, {"otp_token": totp_from_secret(secret, RPPS)})
    expect_error(pro, "Indiquez le motif de l'urgence")
    assert not EmergencyAccess.objects.filter(patient=patient).exists()
    inspector.check(pro, "emergency-error")
    assert pro.get_by_role("link", name="Radiographie du genou").count() == 0

    fill_by_keyboard(
        pro,
        {
            "reason": "Patiente inconsciente aux urgences, antécédents inconnus.",
            "otp_token": totp_from_secret(secret, RPPS),
        },
    )
    inspector.check(pro, "emergency-record")
    expect(pro.locator(".emergency-banner, [data-testid=emergency-banner]").first).to_be_visible()
    follow(pro, pro.get_by_role("link", name="Radiographie du genou"))
    inspector.check(pro, "emergency-document")

    # The patient is told, by e-mail, without any health data in it.
    (notice,) = [m for m in mail.outbox if "lea.martin@example.fr" in m.to]
    assert "urgence" in (notice.subject + notice.body).lower()
    for private in ("Radiographie", "inconsciente", "Martin", "Léa", NIR, NIR_GROUPED):
        assert private not in notice.subject + notice.body, private
    assert EmergencyAccess.objects.filter(patient=patient).count() == 1
