"""Issue 17, items 3 and 6 in Chromium: a patient invites a caregiver with the keyboard, a wrong
identity gets the one answer, the invited person accepts in the portal, switches to the
patient's record (the banner says whose), reads a document and the history; the patient ends
the access and the page says so; the caregiver is refused on the very next request. Every page
is checked by the inspector (French, labels, axe at 0 violations, no sideways scroll at 320 px).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from playwright.sync_api import expect

from access_control.models import CaregiverGrant
from tests.accounts.factories import PASSWORD, UserFactory, add_totp, totp_token
from tests.e2e.browser import fill_by_keyboard, next_document, tab_to
from tests.e2e.steps import log_in
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document


def _enrolled(last_name: str, first_name: str):
    user = UserFactory.create()
    person = make_beneficiary(last_name=last_name, first_name=first_name)
    person.patient = user
    person.save()
    return user, add_totp(user)


def _invite(page, fields: dict[str, str], until: str) -> None:
    """The form with the keyboard alone: the three facts, the scope (a radio), the last day."""
    fill_by_keyboard(page, fields, submit=False)
    tab_to(page, '[name="scope"][value="read"]')
    page.keyboard.press("Space")
    fill_by_keyboard(page, {"until": until})


def test_invite_accept_and_end_a_caregiver(site, new_page, inspector):
    patient, patient_device = _enrolled("Martin", "Léa")
    helper, helper_device = _enrolled("Lefèvre", "Paul")
    until = (timezone.localdate() + timedelta(days=60)).strftime("%d/%m/%Y")
    fields = {
        "identifier": helper.username,
        "last_name": "Lefevre",
        "birth_date": "14/05/1985",
    }

    me = inspector.watch(new_page())
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(patient_device), "me")
    inspector.check(me, "me-summary")
    me.goto(site + "/access/caregivers/")
    inspector.check(me, "caregivers-empty")
    _invite(me, {**fields, "birth_date": "15/05/1985"}, until)
    inspector.check(me, "caregivers-no-match")
    expect(me.get_by_text("Nous n'avons trouvé aucune personne inscrite").first).to_be_visible()
    assert not CaregiverGrant.objects.exists()

    me.goto(site + "/access/caregivers/")
    _invite(me, fields, until)
    inspector.check(me, "caregivers-invited")
    expect(me.get_by_test_id("caregivers")).to_contain_text("Paul Lefèvre")

    them = inspector.watch(new_page())
    log_in(them, inspector, site, helper.username, PASSWORD, totp_token(helper_device), "them")
    inspector.check(them, "them-summary")
    them.goto(site + "/access/caregivers/")
    inspector.check(them, "invitation")
    with next_document(them):
        them.get_by_test_id("invitations").get_by_role("button", name="Accepter").click()
    inspector.check(them, "accepted")
    expect(them.get_by_test_id("helping")).to_contain_text("Léa Martin")

    # Item 3: the switch (on every page, among one's own ties), the record acted on.
    document = add_document(patient, title="Bilan sanguin")
    them.goto(site + "/summary/")
    banner = them.get_by_test_id("acting-banner")
    expect(banner).to_contain_text("Vous consultez votre propre dossier.")
    banner.get_by_label("Dossier sur lequel agir").select_option(
        label="Léa Martin (aidant, consultation seule)"
    )
    with next_document(them):
        banner.get_by_role("button", name="Changer de dossier").click()
    inspector.check(them, "acting-list")
    expect(them.get_by_test_id("acting-banner")).to_contain_text(
        "Vous agissez pour le dossier de Léa Martin en tant qu'aidant (consultation seule)."
    )
    expect(them.get_by_role("heading", level=1)).to_have_text("Dossier de Léa Martin")
    with next_document(them):
        them.get_by_role("link", name="Bilan sanguin").click()
    inspector.check(them, "acting-document")
    expect(them.get_by_role("button", name="Le masquer aux professionnels de santé")).to_have_count(
        0
    )
    them.goto(site + "/access/history/")
    inspector.check(them, "acting-history")

    me.goto(site + "/access/caregivers/")
    with next_document(me):
        me.get_by_role("button", name="Mettre fin à l'accès de Paul Lefèvre").click()
    inspector.check(me, "ended")
    expect(me.get_by_text("Vous n'avez aucun aidant.")).to_be_visible()
    # Refused on the very next request: back on their own record, told why.
    them.goto(site + f"/records/{document.uid}/")
    expect(them.get_by_role("heading", level=1)).not_to_have_text("Bilan sanguin")
    them.goto(site + "/records/")
    inspector.check(them, "acting-ended")
    expect(them.get_by_role("heading", level=1)).to_have_text("Mon dossier")
    expect(them.get_by_text("Bilan sanguin")).to_have_count(0)
    them.goto(site + "/access/caregivers/")
    expect(them.get_by_test_id("helping")).to_have_count(0)
