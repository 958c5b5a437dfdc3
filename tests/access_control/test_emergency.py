"""Emergency access ("bris de glace"), notifications and the patient's settings."""

from __future__ import annotations

import html
from datetime import datetime, time, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone
from django.utils.translation import gettext, override

from access_control.emergency_review import ReviewRefused, mark_reviewed
from access_control.models import EmergencyAccess, RecordSettings
from accounts.models import Profession
from audit.models import AuditEvent
from records.models import Document
from records.selectors import DocumentNotFound, document_for
from tests.access_control.factories import (
    ask_access,
    enrolled_patient,
    grant,
    look_up,
    practitioner_with_login,
)
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    confirm_pending_emails,
    give_verified_email,
    logged_in_client,
    next_totp_token,
    totp_token,
    verified_staff_client,
)
from tests.records.factories import PDF, add_document, pdf_upload

pytestmark = pytest.mark.django_db


def declare(pro, profile, nir, reason="Patient inconscient admis aux urgences", token=None):
    """Look the NIR up, then declare an emergency from the page's link (it names the look-up)."""
    lookup = look_up(pro, nir)
    token = token or next_totp_token(profile.user.totpdevice_set.get())
    return pro.post(f"/pro/patients/{lookup}/emergency/", {"reason": reason, "otp_token": token})


def with_email(client, email="patient@example.fr", **choices):
    data = {
        "contact_email": email,
        "notify_first_access": "on",
        "notify_emergency": "on",
        "notify_request": "on",
        "notify_new_document": "on",
        **choices,
    }
    response = client.post("/access/settings/", {k: v for k, v in data.items() if v})
    confirm_pending_emails()  # an address is written to once its owner confirmed it
    return response


@pytest.fixture
def run_tasks(django_capture_on_commit_callbacks):
    def run(action):
        with django_capture_on_commit_callbacks(execute=True):
            return action()

    return run


def test_an_emergency_opens_a_time_boxed_read_without_hidden_documents(run_tasks):
    patient, client, nir = enrolled_patient()
    with_email(client)
    visible = add_document(patient, title="Allergies")
    hidden = add_document(patient, title="Document masqué")
    Document.objects.filter(pk=hidden.pk).update(hidden_from_practitioners=True)
    profile, pro = practitioner_with_login()
    assert pro.get(f"/records/{visible.uid}/").status_code == 404

    response = run_tasks(lambda: declare(pro, profile, nir))
    assert response["Location"] == f"/pro/patients/{patient.pk}/"
    record = pro.get(f"/pro/patients/{patient.pk}/")
    content = record.content.decode()
    assert "Mode urgence" in content  # shown on every page while it lasts
    assert "Allergies" in content and "masqué" not in content
    assert pro.get(f"/records/{hidden.uid}/").status_code == 404
    assert (
        AuditEvent.objects.filter(
            patient=patient, actor=profile.user, mode="emergency", action="view", outcome="allowed"
        ).count()
        == 0
    )
    assert pro.get(f"/records/{visible.uid}/").status_code == 200
    assert (
        AuditEvent.objects.filter(
            patient=patient, actor=profile.user, mode="emergency", action="view", outcome="allowed"
        ).count()
        == 1
    )
    # The patient is told, without health data nor the practitioner's identity.
    assert [m.to for m in mail.outbox] == [["patient@example.fr"]]
    assert "urgence" in mail.outbox[0].subject.lower()
    assert "Allergies" not in mail.outbox[0].body and profile.last_name not in mail.outbox[0].body

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=61)),
        pytest.raises(DocumentNotFound),
    ):
        document_for(profile.user, visible.uid, "view")


def test_an_emergency_needs_a_reason_and_a_fresh_second_factor():
    patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    short = declare(pro, profile, nir, reason="urgence")
    assert "15" in short.content.decode()
    wrong_code = declare(pro, profile, nir, token="000000")
    assert wrong_code.status_code == 200
    assert not EmergencyAccess.objects.exists()


def test_an_opted_out_patient_refuses_emergencies_and_it_is_recorded():
    patient, client, nir = enrolled_patient()
    with_email(client, emergency_opt_out="on")
    assert RecordSettings.objects.get(patient=patient).emergency_opt_out
    profile, pro = practitioner_with_login()
    response = declare(pro, profile, nir)
    assert response.status_code == 200
    assert "n'autorise pas" in html.unescape(response.content.decode())
    assert not EmergencyAccess.objects.exists()
    assert AuditEvent.objects.filter(
        action="emergency", outcome="refused", reason="emergency-opted-out"
    ).exists()


def test_a_blocked_practitioner_cannot_declare_an_emergency():
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    client.post("/access/blocks/", {"block-rpps": profile.rpps})
    declare(pro, profile, nir)
    assert not EmergencyAccess.objects.exists()
    assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 404


def test_the_treating_physician_is_told_of_an_emergency(run_tasks):
    patient, client, nir = enrolled_patient()
    physician, _physician_client = practitioner_with_login()
    # The directory's address, confirmed when the practitioner activated through it.
    give_verified_email(physician.user, "medecin@example.fr")
    client.post("/access/treating-physician/", {"md-rpps": physician.rpps})
    profile, pro = practitioner_with_login()
    run_tasks(lambda: declare(pro, profile, nir))
    assert ["medecin@example.fr"] in [m.to for m in mail.outbox]


def test_notifications_follow_the_patients_choices(run_tasks):
    patient, client, nir = enrolled_patient()
    with_email(client, notify_request="", notify_new_document="on")
    profile, pro = practitioner_with_login()
    run_tasks(lambda: ask_access(pro, nir))
    assert mail.outbox == []  # access requests: not wanted
    grant(client, profile.rpps)
    run_tasks(lambda: pro.get(f"/pro/patients/{patient.pk}/"))
    assert len(mail.outbox) == 1 and "première fois" in mail.outbox[0].subject
    run_tasks(lambda: pro.get(f"/pro/patients/{patient.pk}/"))
    assert len(mail.outbox) == 1  # only the first access is announced
    run_tasks(
        lambda: pro.post(
            f"/pro/patients/{patient.pk}/upload/",
            {"title": "Compte rendu", "category": "comptes-rendus", "file": pdf_upload()},
        )
    )
    assert len(mail.outbox) == 2
    document = Document.objects.get(patient=patient)
    assert document.author == profile.user
    assert "Compte rendu" not in mail.outbox[1].body


def test_pages_under_an_emergency_say_so_and_offer_no_upload(run_tasks):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    run_tasks(lambda: declare(pro, profile, nir))
    record = pro.get(f"/pro/patients/{patient.pk}/").content.decode()
    assert f"/pro/patients/{patient.pk}/upload/" not in record
    assert pro.get(f"/pro/patients/{patient.pk}/upload/").status_code == 404  # the door agrees
    found = pro.post("/pro/", {"nir": nir}).content.decode()
    assert "accès d'urgence" in html.unescape(found)
    assert "Le patient vous a donné accès" not in found
    assert f"/pro/patients/{patient.pk}/" in found

    grant(client, profile.rpps)  # with the patient's consent, both are true again
    record = pro.get(f"/pro/patients/{patient.pk}/").content.decode()
    assert f"/pro/patients/{patient.pk}/upload/" in record
    found = pro.post("/pro/", {"nir": nir}).content.decode()
    assert "Le patient vous a donné accès" in html.unescape(found)


def test_a_practitioner_without_consent_cannot_add_a_document():
    patient, _client, _nir = enrolled_patient()
    _profile, pro = practitioner_with_login()
    response = pro.post(
        f"/pro/patients/{patient.pk}/upload/",
        {"title": "X", "category": "autres", "file": pdf_upload("x.pdf", PDF)},
    )
    assert response.status_code == 404
    assert not Document.objects.exists()


def test_settings_bad_email_is_explained_and_changes_nothing():
    patient, client, _nir = enrolled_patient()
    response = client.post("/access/settings/", {"contact_email": "pas-une-adresse"})
    assert response.status_code == 200
    assert "adresse électronique valide" in response.content.decode()
    assert not RecordSettings.objects.filter(patient=patient).exists()


def test_staff_see_the_emergency_review_queue_without_the_reason(run_tasks):
    patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    run_tasks(lambda: declare(pro, profile, nir, reason="Détresse respiratoire aiguë grave"))
    staff = verified_staff_client()
    queue = staff.get("/admin/access_control/emergencyaccess/").content.decode()
    assert profile.user.username in queue or str(profile.user) in queue
    assert "respiratoire" not in queue
    access = EmergencyAccess.objects.get()
    staff.post(
        "/admin/access_control/emergencyaccess/",
        {"action": "mark_reviewed", "_selected_action": [access.pk]},
    )
    assert EmergencyAccess.objects.get().reviewed_at is not None


def test_opting_out_during_an_emergency_ends_it_at_once(run_tasks):
    patient, client, nir = enrolled_patient()
    document = add_document(patient)
    profile, pro = practitioner_with_login()
    run_tasks(lambda: declare(pro, profile, nir))
    assert pro.get(f"/records/{document.uid}/").status_code == 200
    with_email(client, emergency_opt_out="on")
    assert pro.get(f"/records/{document.uid}/").status_code == 404
    assert "Mode urgence" not in pro.get("/pro/").content.decode()
    assert pro.get(f"/pro/patients/{patient.pk}/").status_code == 404


def test_profession_rules_still_apply_in_an_emergency(run_tasks):
    patient, _client, nir = enrolled_patient()
    psychiatric = add_document(patient, category="psychiatrie")
    profile, pro = practitioner_with_login(Profession.PHARMACIEN)
    run_tasks(lambda: declare(pro, profile, nir))
    assert pro.get(f"/records/{psychiatric.uid}/").status_code == 404


def test_a_wrong_code_when_declaring_is_recorded():
    patient, _client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    declare(pro, profile, nir, token="000000")
    assert AuditEvent.objects.filter(
        action="emergency", outcome="refused", reason="second-factor-failed"
    ).exists()


def test_the_patient_reads_the_reason_of_each_emergency(run_tasks):
    patient, client, nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    run_tasks(lambda: declare(pro, profile, nir, reason="Arrêt cardiaque, patient inconscient"))
    overview = html.unescape(client.get("/access/").content.decode())
    assert "Arrêt cardiaque, patient inconscient" in overview and profile.last_name in overview


def test_an_access_request_is_announced_without_health_data(run_tasks):
    patient, client, nir = enrolled_patient()
    with_email(client)
    add_document(patient, title="Diagnostic sensible")
    profile, pro = practitioner_with_login()
    run_tasks(lambda: ask_access(pro, nir))
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert "demande" in message.subject.lower()
    assert "Diagnostic" not in message.body and profile.last_name not in message.body
    assert profile.rpps not in message.body


def waiting_emergency():
    """An emergency declared on an enrolled patient's record, not yet reviewed."""
    patient, _client, _nir = enrolled_patient()
    profile = PractitionerProfileFactory()
    access = EmergencyAccess.objects.create(
        patient=patient,
        practitioner=profile.user,
        reason="inconscient",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    return patient, profile.user, access


def reviews_of(patient):
    return AuditEvent.objects.filter(patient=patient, action="review-emergency")


def test_marking_an_emergency_reviewed_is_recorded_on_the_patients_chain_naming_the_staff():
    patient, _practitioner, access = waiting_emergency()
    patient_client = logged_in_client(patient)
    staff = StaffFactory()
    client = logged_in_client(staff)
    client.post(
        "/admin/access_control/emergencyaccess/",
        {"action": "mark_reviewed", "_selected_action": [access.pk]},
    )
    access.refresh_from_db()
    assert access.reviewed_at is not None and access.reviewed_by == staff
    review = reviews_of(patient).get()
    assert review.actor == staff and review.actor_role == "staff"
    assert review.outcome == "allowed" and review.client_address == "127.0.0.1"
    # A second click changes nothing and records nothing more: it was already reviewed.
    client.post(
        "/admin/access_control/emergencyaccess/",
        {"action": "mark_reviewed", "_selected_action": [access.pk]},
    )
    assert reviews_of(patient).count() == 1
    # The patient's history says it: the service reviewed the emergency on their record.
    history = html.unescape(patient_client.get("/access/history/").content.decode())
    with override("fr"):
        assert str(gettext("Review an emergency access")) in history
        assert str(gettext("DMP service")) in history


def test_a_third_user_cannot_mark_an_emergency_reviewed():
    patient, practitioner, access = waiting_emergency()
    # Through the admin: staff without the permission, the practitioner, the patient.
    without_permission = StaffFactory(is_superuser=False)
    for user in (without_permission, practitioner, patient):
        logged_in_client(user).post(
            "/admin/access_control/emergencyaccess/",
            {"action": "mark_reviewed", "_selected_action": [access.pk]},
        )
    # Through the service: anyone who is not staff is refused by the door, and recorded.
    not_staff = UserFactory(kind="staff")
    for user in (practitioner, patient, not_staff):
        with pytest.raises(ReviewRefused):
            mark_reviewed(user, [access.pk], client_address="192.0.2.1")
    access.refresh_from_db()
    assert access.reviewed_at is None and access.reviewed_by is None
    assert not reviews_of(patient).filter(outcome="allowed").exists()
    refused = reviews_of(patient).filter(outcome="refused")
    assert {event.actor for event in refused} == {practitioner, patient, not_staff}


def test_e_mails_go_out_in_the_language_the_person_logged_in_with(run_tasks):
    patient, client, _nir = enrolled_patient()
    with_email(client)
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english.post("/accounts/login/", {"username": patient.username, "password": PASSWORD})
    device = add_totp(patient)
    english.post("/accounts/login/", {"otp_token": totp_token(device)})
    patient.refresh_from_db()
    assert patient.language == "en"

    profile, pro = practitioner_with_login()
    grant(client, profile.rpps)
    run_tasks(lambda: pro.get(f"/pro/patients/{patient.pk}/"))
    assert [m.subject for m in mail.outbox] == [
        "A health professional accessed your shared medical record for the first time"
    ]


def test_the_emergency_banner_shows_the_time_in_the_pages_language():
    patient, _client, _nir = enrolled_patient()
    profile, pro = practitioner_with_login()
    tomorrow = timezone.localdate() + timedelta(days=1)
    ends = timezone.make_aware(datetime.combine(tomorrow, time(15, 0)))
    EmergencyAccess.objects.create(
        patient=patient, practitioner=profile.user, ends_at=ends, reason="Patient inconscient"
    )
    page = html.unescape(pro.get("/pro/workspace/").content.decode())
    assert "Vous lisez un dossier en accès d'urgence, jusqu'à 15:00." in page
    pro.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = html.unescape(pro.get("/pro/workspace/").content.decode())
    assert "under an emergency access, until 3 p.m." in page
