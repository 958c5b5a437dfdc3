"""Consent: practitioners read a record only with the patient's say, within their profession."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from access_control.models import Consent, ProfessionRule, TreatingPhysician
from access_control.profession_defaults import DENIED
from access_control.selectors import patient_identity
from accounts.models import Profession
from audit.models import AuditEvent
from records.models import Document
from records.selectors import DocumentNotFound, document_for
from tests.access_control.factories import (
    ask_access,
    enrolled_patient,
    grant,
    practitioner_with_login,
)
from tests.accounts.factories import (
    PractitionerProfileFactory,
    verified_staff_client,
)
from tests.enrollment.factories import make_nir
from tests.records.factories import add_document, pdf_upload

pytestmark = pytest.mark.django_db


def test_without_consent_the_practitioner_learns_only_that_no_access_is_granted():
    patient, _client, nir = enrolled_patient()
    add_document(patient, title="Compte rendu confidentiel")
    _profile, pro = practitioner_with_login()
    page = pro.post("/pro/", {"nir": nir})
    content = page.content.decode()
    assert "pas donné accès" in content and "Demander l" in content
    assert "confidentiel" not in content and "document" not in content.lower().split("<main")[1]
    assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 404
    assert AuditEvent.objects.filter(patient=patient, action="lookup").exists()


def test_the_patient_grants_then_revokes_and_the_next_request_is_refused():
    patient, client, nir = enrolled_patient()
    document = add_document(patient, title="IRM lombaire")
    profile, pro = practitioner_with_login()
    assert grant(client, profile.rpps).status_code == 302
    record = pro.get(f"/pro/patients/{patient.pk}/")
    assert "IRM lombaire" in record.content.decode()
    assert pro.get(f"/records/{document.uid}/download/").status_code == 200

    consent = Consent.objects.get(patient=patient)
    client.post(f"/access/consents/{consent.pk}/revoke/")
    # Same practitioner session, very next request: refused, and recorded.
    assert pro.get(f"/records/{document.uid}/").status_code == 404
    assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 404
    assert (
        AuditEvent.objects.filter(
            patient=patient, actor=profile.user, outcome="refused", reason="no-consent"
        ).count()
        == 2
    )


def test_a_consent_ends_at_its_date():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    profile, pro = practitioner_with_login()
    until = timezone.localdate() + timedelta(days=30)
    grant(client, profile.rpps, until.isoformat())
    assert pro.get(f"/records/{document.uid}/").status_code == 200
    with (
        time_machine.travel(timezone.now() + timedelta(days=31)),
        pytest.raises(DocumentNotFound),
    ):
        document_for(profile.user, document.uid, "view")


def test_the_end_of_a_consent_is_the_day_typed_and_the_door_grants_through_it():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    profile, pro = practitioner_with_login()
    until = timezone.localdate() + timedelta(days=30)
    grant(client, profile.rpps, until.strftime("%d/%m/%Y"))
    typed, next_day = until.strftime("%d/%m/%Y"), (until + timedelta(days=1)).strftime("%d/%m/%Y")
    overview = client.get("/access/").content.decode()
    assert typed in overview and next_day not in overview
    workspace = pro.get("/pro/workspace/").content.decode()
    assert typed in workspace and next_day not in workspace
    last_minute = timezone.make_aware(datetime.combine(until, time(23, 59)))
    with time_machine.travel(last_minute):
        assert document_for(profile.user, document.uid, "view").uid == document.uid
    with (
        time_machine.travel(last_minute + timedelta(minutes=1)),
        pytest.raises(DocumentNotFound),
    ):
        document_for(profile.user, document.uid, "view")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"rpps": "123"}, "11 chiffres"),
        ({"rpps": "10000000008"}, "clé"),
        ({"rpps": "10000000017"}, "Aucun professionnel"),
        ({"rpps": "RPPS", "until": "2099-01-01"}, "11 chiffres"),
    ],
)
def test_bad_grant_input_is_explained_and_changes_nothing(data, message):
    _patient, client, _nir = enrolled_patient()
    response = client.post("/access/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Consent.objects.exists()


def test_an_end_date_beyond_one_year_is_refused():
    _patient, client, _nir = enrolled_patient()
    profile = PractitionerProfileFactory()
    too_late = (timezone.localdate() + timedelta(days=400)).isoformat()
    response = grant(client, profile.rpps, too_late)
    assert "un an" in response.content.decode()
    errors = response.context["grant_form"].errors
    assert "un an" in str(errors["until"]) and "rpps" not in errors  # on the date's field
    assert not Consent.objects.exists()


def test_a_block_overrides_consent():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    client.post("/access/blocks/", {"block-rpps": profile.rpps})
    assert pro.get(f"/records/{document.uid}/").status_code == 404
    # A new consent is refused beside the block (tests/access_control/test_access_requests.py).
    assert grant(client, profile.rpps).status_code == 200
    assert not Consent.objects.live().filter(patient=patient).exists()
    assert pro.get(f"/records/{document.uid}/").status_code == 404
    assert AuditEvent.objects.filter(actor=profile.user, reason="blocked-by-patient").exists()


def test_profession_rules_filter_what_a_pharmacist_reads():
    patient, client, _nir = enrolled_patient()
    psychiatric = add_document(patient, title="Compte rendu psychiatrique", category="psychiatrie")
    prescription = add_document(patient, title="Ordonnance", category="traitements")
    profile, pro = practitioner_with_login(Profession.PHARMACIEN)
    grant(client, profile.rpps)
    record = pro.get(f"/pro/patients/{patient.pk}/").content.decode()
    assert "Ordonnance" in record and "psychiatrique" not in record
    assert pro.get(f"/records/{psychiatric.uid}/").status_code == 404
    assert pro.get(f"/records/{prescription.uid}/").status_code == 200
    assert (
        AuditEvent.objects.filter(
            actor=profile.user, reason="profession-may-not-read-category"
        ).count()
        == 1
    )


def test_hidden_documents_only_for_their_author_and_the_treating_physician():
    patient, client, _nir = enrolled_patient()
    physician, physician_client = practitioner_with_login()
    nurse, nurse_client = practitioner_with_login(Profession.INFIRMIER)
    author, author_client = practitioner_with_login()
    hidden = add_document(patient, title="Document masqué", author=author.user)
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    for profile in (physician, nurse, author):
        grant(client, profile.rpps)
    assert nurse_client.get(f"/records/{hidden.uid}/").status_code == 404
    assert physician_client.get(f"/records/{hidden.uid}/").status_code == 404
    client.post("/access/treating-physician/", {"md-rpps": physician.rpps})
    assert physician_client.get(f"/records/{hidden.uid}/").status_code == 200
    assert author_client.get(f"/records/{hidden.uid}/").status_code == 200
    assert nurse_client.get(f"/records/{hidden.uid}/").status_code == 404


def test_a_practitioner_asks_and_the_patient_accepts(django_capture_on_commit_callbacks):
    patient, client, nir = enrolled_patient()
    document = add_document(patient)
    profile, pro = practitioner_with_login()
    with django_capture_on_commit_callbacks(execute=True):
        ask_access(pro, nir)
    overview = client.get("/access/").content.decode()
    assert profile.last_name in overview
    request_id = patient.access_requests_received.get().pk
    client.post(f"/access/requests/{request_id}/accept/")
    assert pro.get(f"/records/{document.uid}/").status_code == 200


def test_other_roles_are_refused_the_consent_pages():
    _patient, client, _nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    assert pro.get("/access/").status_code == 404
    assert client.get("/pro/").status_code == 404
    anonymous = Client().get("/access/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


def test_a_blocked_practitioner_finds_no_way_in_through_a_request(
    django_capture_on_commit_callbacks,
):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    client.post("/access/blocks/", {"block-rpps": profile.rpps})
    with django_capture_on_commit_callbacks(execute=True):
        ask_access(pro, nir)
    assert not patient.access_requests_received.exists()
    assert AuditEvent.objects.filter(
        patient=patient, action="request-access", outcome="refused", reason="blocked-by-patient"
    ).exists()


def test_an_unknown_number_gets_the_same_page_as_a_record_without_consent():
    _patient, _client, nir = enrolled_patient()
    _profile, pro = practitioner_with_login()

    def page(number):
        content = pro.post("/pro/", {"nir": number}).content.decode()
        content = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", content)
        content = content.replace(number, "NIR")  # the number typed is echoed in the form
        return re.sub(r"/pro/patients/[0-9a-f-]{36}/", "/pro/patients/ID/", content)

    assert page(make_nir()) == page(nir)
    assert AuditEvent.objects.filter(action="lookup", reason="no-such-record").exists()


def test_the_patient_finds_a_practitioner_by_name_and_grants_access():
    patient, client, _nir = enrolled_patient()
    profile = PractitionerProfileFactory(last_name="Lemaire", first_name="Hugo")
    PractitionerProfileFactory(last_name="Martin")
    page = client.get("/access/", {"name": "lema"}).content.decode()
    # The field's label gives "Martin" as an example: the other practitioner is not listed.
    assert "Hugo Lemaire" in page and "Camille Martin" not in page
    assert f'value="{profile.rpps}"' in page
    client.post("/access/", {"rpps": profile.rpps})
    assert Consent.objects.filter(patient=patient, practitioner=profile.user).exists()


def test_hidden_documents_are_not_listed_to_a_consented_practitioner():
    patient, client, _nir = enrolled_patient()
    hidden = add_document(patient, title="Document masqué")
    add_document(patient, title="Document visible")
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    listing = pro.get(f"/pro/patients/{patient.pk}/").content.decode()
    assert "Document visible" in listing and "masqué" not in listing


def test_dentists_do_not_read_advance_directives():
    patient, client, _nir = enrolled_patient()
    directives = add_document(patient, title="Mes directives", category="directives-anticipees")
    dentist, dentist_client = practitioner_with_login(Profession.CHIRURGIEN_DENTISTE)
    doctor, doctor_client = practitioner_with_login()
    grant(client, dentist.rpps)
    grant(client, doctor.rpps)
    assert dentist_client.get(f"/records/{directives.uid}/").status_code == 404
    assert doctor_client.get(f"/records/{directives.uid}/").status_code == 200


def test_staff_cannot_widen_a_profession_rule_and_the_door_applies_the_seeded_rules():
    """A rule decides what every practitioner of a profession reads: it changes only by a
    reviewed migration. Even a superuser's POST to the admin changes nothing, and the door keeps
    applying the seeded rule (dentists do not read advance directives)."""
    patient, client, _nir = enrolled_patient()
    directives = add_document(patient, category="directives-anticipees")
    dentist, dentist_client = practitioner_with_login(Profession.CHIRURGIEN_DENTISTE)
    grant(client, dentist.rpps)
    rule = ProfessionRule.objects.get(
        profession="chirurgien-dentiste", category__code="directives-anticipees"
    )
    assert "directives-anticipees" in DENIED["chirurgien-dentiste"] and not rule.may_read
    staff = verified_staff_client()
    response = staff.post(
        f"/admin/access_control/professionrule/{rule.pk}/change/",
        {"profession": rule.profession, "category": rule.category_id, "may_read": "on"},
    )
    assert response.status_code == 403
    added = staff.post(
        "/admin/access_control/professionrule/add/",
        {"profession": "secretaire", "category": rule.category_id, "may_read": "on"},
    )
    assert added.status_code == 403
    assert not ProfessionRule.objects.get(pk=rule.pk).may_read
    assert not ProfessionRule.objects.filter(profession="secretaire").exists()
    assert dentist_client.get(f"/records/{directives.uid}/").status_code == 404


def test_a_new_treating_physician_reads_without_a_separate_grant():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient)
    physician, physician_client = practitioner_with_login()
    client.post("/access/treating-physician/", {"md-rpps": physician.rpps})
    assert physician_client.get(f"/records/{document.uid}/").status_code == 200


def test_blocking_the_treating_physician_removes_the_designation():
    patient, client, _nir = enrolled_patient()
    physician, physician_client = practitioner_with_login()
    client.post("/access/treating-physician/", {"md-rpps": physician.rpps})
    client.post("/access/blocks/", {"block-rpps": physician.rpps})
    assert not TreatingPhysician.objects.filter(patient=patient).exists()
    assert physician_client.get(f"/pro/patients/{patient.pk}/").status_code == 404


def test_a_refused_upload_by_a_practitioner_is_recorded():
    patient, _client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    pro.post(
        f"/pro/patients/{patient.pk}/upload/",
        {"title": "X", "category": "autres", "file": pdf_upload()},
    )
    assert AuditEvent.objects.filter(
        patient=patient, actor=profile.user, action="upload", outcome="refused", reason="no-consent"
    ).exists()


def test_the_consented_record_opens_with_the_patients_identity_nir_grouped():
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    stranger_profile, stranger = practitioner_with_login()
    grant(client, profile.rpps)
    grouped = " ".join((nir[0], nir[1:3], nir[3:5], nir[5:7], nir[7:10], nir[10:13], nir[13:]))

    content = pro.get(f"/pro/patients/{patient.pk}/").content.decode()
    assert grouped in content and "Dupont" in content and "14/05/1985" in content
    # Another practitioner, without consent: 404, no name, and the refusal is on record.
    refused = stranger.get(f"/pro/patients/{patient.pk}/")
    assert refused.status_code == 404
    assert "Dupont" not in refused.content.decode() and grouped not in refused.content.decode()
    assert AuditEvent.objects.filter(
        patient=patient, actor=stranger_profile.user, outcome="refused"
    ).exists()


@pytest.mark.django_db(transaction=True)  # outside the test's own wrapping transaction
def test_the_identity_is_read_only_inside_the_audited_transaction():
    patient, client, _nir = enrolled_patient()
    profile, _pro = practitioner_with_login()
    grant(client, profile.rpps)
    with pytest.raises(RuntimeError, match="transaction"):
        patient_identity(profile.user, patient)
