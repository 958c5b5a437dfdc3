"""The page each kind of user lands on after login, and the header's name and menu.

Each landing page shows its reader's world only: a patient's summary never shows another
patient's documents, and the practitioner's workspace never lists a patient whom the door
would not let them list (no consent, revoked, expired, blocked).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from access_control.models import AccessRequest, Block, Consent, EmergencyAccess
from accounts.models import UserKind
from audit.models import Action, AuditEvent
from enrollment.models import RegistryChange
from tests.access_control.factories import (
    ask_access,
    enrolled_patient,
    practitioner_with_login,
)
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    StaffFactory,
    UserFactory,
    add_totp,
    logged_in_client,
    password_only_client,
    totp_token,
)
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def login_through_the_form(user, next_url: str = "") -> str:
    """Both steps of the real login page; the address it sends the user to."""
    client = Client()
    device = add_totp(user)
    client.get(LOGIN + (f"?next={next_url}" if next_url else ""))
    client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    return client.post(LOGIN, {"otp_token": totp_token(device)})["Location"]


def named_patient(last_name: str, first_name: str):
    patient, client = patient_with_login()
    person = make_beneficiary(last_name=last_name, first_name=first_name)
    type(person).objects.filter(pk=person.pk).update(patient=patient)
    return patient, client


def text(response) -> str:
    return response.content.decode()


# --- Where each role lands ---------------------------------------------------------------------


def test_each_kind_of_account_lands_on_its_own_page_after_login():
    assert login_through_the_form(UserFactory(kind=UserKind.PATIENT)) == "/summary/"
    assert login_through_the_form(PractitionerProfileFactory().user) == "/pro/workspace/"
    assert login_through_the_form(StaffFactory()) == "/staff/"


def test_the_page_asked_for_before_the_login_still_wins():
    assert login_through_the_form(UserFactory(kind="patient"), "/access/") == "/access/"


def test_the_home_address_sends_each_signed_in_role_to_its_page_and_visitors_see_it():
    patient, client = patient_with_login()
    assert client.get("/")["Location"] == "/summary/"
    profile, pro = practitioner_with_login()
    assert pro.get("/")["Location"] == "/pro/workspace/"
    assert logged_in_client(StaffFactory()).get("/")["Location"] == "/staff/"
    public = Client().get("/")
    assert public.status_code == 200 and 'href="/enrollment/"' in text(public)


# --- The patient's summary ---------------------------------------------------------------------


def test_the_patients_summary_shows_their_documents_requests_and_accesses_only():
    patient, client, nir = enrolled_patient()
    add_document(patient, title="Bilan sanguin de mars")
    other, _other_client = patient_with_login()
    add_document(other, title="Radio du genou de quelqu'un d'autre")
    asking, pro = practitioner_with_login()
    asking.last_name, asking.specialty = "Lefèvre", "Cardiologie"
    asking.save()
    reader, reader_client = practitioner_with_login()
    reader.last_name = "Moreau"
    reader.save()
    Consent.objects.create(patient=patient, practitioner=reader.user)
    reader_client.get(f"/pro/patients/{patient.pk}/")  # an access by someone else
    AccessRequest.objects.create(patient=patient, practitioner=asking.user)

    page = text(client.get("/summary/"))

    assert "Bilan sanguin de mars" in page
    assert "quelqu&#x27;un d&#x27;autre" not in page and "genou" not in page
    assert "Lefèvre" in page and "Cardiologie" in page  # the request, with the profession
    assert "Moreau" in page  # the access by another
    for shortcut in ("/records/upload/", "/access/", "/access/history/", "/access/settings/"):
        assert f'href="{shortcut}"' in page


def test_the_patients_summary_lists_no_access_of_their_own():
    patient, client, _nir = enrolled_patient()
    client.get("/records/")
    client.get("/access/history/")
    page = text(client.get("/summary/"))
    assert "Aucun professionnel de santé n'a encore consulté votre dossier." in page


def test_the_summary_is_the_patients_only():
    profile, pro = practitioner_with_login()
    assert pro.get("/summary/").status_code == 404
    assert logged_in_client(StaffFactory()).get("/summary/").status_code == 404


# --- The practitioner's workspace --------------------------------------------------------------


def test_the_workspace_lists_only_the_patients_the_door_lets_the_practitioner_list():
    profile, pro = practitioner_with_login()
    names = {}
    for label in ("Consenti", "Revoque", "Expire", "Bloque", "Inconnu"):
        patient, _client = named_patient(label, "Jeanne")
        names[label] = patient
    Consent.objects.create(patient=names["Consenti"], practitioner=profile.user)
    Consent.objects.create(
        patient=names["Revoque"], practitioner=profile.user, revoked_at=timezone.now()
    )
    Consent.objects.create(
        patient=names["Expire"],
        practitioner=profile.user,
        expires_at=timezone.now() - timedelta(days=1),
    )
    Consent.objects.create(patient=names["Bloque"], practitioner=profile.user)
    Block.objects.create(patient=names["Bloque"], practitioner=profile.user)
    # Another practitioner's patient: never on this workspace.
    other, _other_client = practitioner_with_login()
    Consent.objects.create(patient=names["Inconnu"], practitioner=other.user)

    page = text(pro.get("/pro/workspace/"))

    assert "Consenti Jeanne" in page
    assert f"/pro/patients/{names['Consenti'].pk}/" in page
    for hidden in ("Revoque", "Expire", "Bloque", "Inconnu"):
        assert hidden not in page
        assert str(names[hidden].pk) not in page
    assert 'action="/pro/"' in page and 'name="nir"' in page  # the NIR look-up


def test_listing_the_workspace_reads_no_record():
    profile, pro = practitioner_with_login()
    patient, _client = named_patient("Martin", "Paul")
    Consent.objects.create(patient=patient, practitioner=profile.user)
    before = AuditEvent.objects.count()
    assert "Martin Paul" in text(pro.get("/pro/workspace/"))
    assert AuditEvent.objects.count() == before


def test_the_workspace_shows_emergencies_in_progress_and_not_ended_ones():
    profile, pro = practitioner_with_login()
    current, _client = named_patient("Urgent", "Anne")
    ended, _client = named_patient("Termine", "Luc")
    EmergencyAccess.objects.create(
        patient=current,
        practitioner=profile.user,
        reason="malaise",
        ends_at=timezone.now() + timedelta(minutes=30),
    )
    EmergencyAccess.objects.create(
        patient=ended,
        practitioner=profile.user,
        reason="malaise",
        started_at=timezone.now() - timedelta(hours=2),
        ends_at=timezone.now() - timedelta(hours=1),
    )
    page = text(pro.get("/pro/workspace/"))
    assert "Urgent Anne" in page and "Termine" not in page


def test_a_request_sent_shows_its_state_and_names_nobody_before_the_answer(
    django_capture_on_commit_callbacks,
):
    profile, pro = practitioner_with_login()
    patient, patient_client, nir = enrolled_patient()
    with django_capture_on_commit_callbacks(execute=True):
        ask_access(pro, nir)
    # A NIR without a record: the same line as a request not answered yet.
    with django_capture_on_commit_callbacks(execute=True):
        ask_access(pro, "1 85 05 78 006 084 91")

    waiting = text(pro.get("/pro/workspace/"))
    assert (
        waiting.count("en attente de la réponse du patient")
        + waiting.count("waiting for the patient's answer")
        == 2
    )
    assert str(patient.pk) not in waiting and "Dupont" not in waiting

    request = AccessRequest.objects.get(patient=patient, practitioner=profile.user)
    patient_client.post(f"/access/requests/{request.pk}/accept/")
    accepted = text(pro.get("/pro/workspace/"))
    assert f"/pro/patients/{patient.pk}/" in accepted and "Dupont Léa" in accepted


# --- The staff page ----------------------------------------------------------------------------


def test_the_staff_page_counts_the_review_queues_and_links_to_the_admin():
    staff = StaffFactory()
    client = logged_in_client(staff)
    patient, _client = patient_with_login()
    profile, _pro = practitioner_with_login()
    EmergencyAccess.objects.create(
        patient=patient, practitioner=profile.user, reason="x", ends_at=timezone.now()
    )
    RegistryChange.objects.create(
        beneficiary=make_beneficiary(),
        proposed_by=StaffFactory(),
        values={},
        changed_fields="address",
    )
    page = text(client.get("/staff/"))
    assert 'href="/admin/"' in page
    assert "/admin/enrollment/registrychange/?state__exact=pending" in page
    assert "/admin/access_control/emergencyaccess/?reviewed_at__isempty=1" in page
    assert ">1 modification du référentiel en attente d'un second agent<" in page
    assert ">1 accès en urgence à contrôler<" in page


def test_the_staff_page_is_staff_only():
    patient, client = patient_with_login()
    assert client.get("/staff/").status_code == 404
    profile, pro = practitioner_with_login()
    assert pro.get("/staff/").status_code == 404


# --- The header --------------------------------------------------------------------------------


def test_the_header_shows_the_persons_name_not_the_login_identifier():
    patient, client = named_patient("Bernard", "Élise")
    page = text(client.get("/records/"))
    header = page[page.index("<header") : page.index("</header>")]
    assert "Élise Bernard" in header and patient.username not in header

    profile, pro = practitioner_with_login()
    profile.first_name, profile.last_name = "Hugo", "Lambert"
    profile.save()
    header = text(pro.get("/pro/"))
    header = header[header.index("<header") : header.index("</header>")]
    assert "Hugo Lambert" in header and profile.user.username not in header

    staff = StaffFactory(username="agent.7", first_name="Nadia", last_name="Roussel")
    header = text(logged_in_client(staff).get("/staff/"))
    header = header[header.index("<header") : header.index("</header>")]
    assert "Nadia Roussel" in header and "agent.7" not in header
    # Without a name on the account, the login identifier is all there is to show.
    unnamed = StaffFactory(username="agent.8", first_name="", last_name="")
    header = text(logged_in_client(unnamed).get("/staff/"))
    assert "agent.8" in header[header.index("<header") : header.index("</header>")]


def test_the_menu_of_each_role_reaches_its_pages_and_marks_the_current_one():
    patient, client = patient_with_login()
    page = text(client.get("/access/history/"))
    menu = page[page.index('class="nav-menu"') : page.index("</nav>")]
    for address in (
        "/summary/",
        "/records/",
        "/records/upload/",
        "/access/",
        "/access/history/",
        "/access/settings/",
        "/accounts/security/",
    ):
        assert f'href="{address}"' in menu
    assert re.search(r'href="/access/history/" aria-current="page"', menu)
    assert menu.count('aria-current="page"') == 1

    profile, pro = practitioner_with_login()
    menu = text(pro.get("/pro/workspace/"))
    menu = menu[menu.index('class="nav-menu"') : menu.index("</nav>")]
    assert 'href="/pro/workspace/" aria-current="page"' in menu and 'href="/pro/"' in menu
    assert 'href="/accounts/security/"' in menu

    staff_menu = text(logged_in_client(StaffFactory()).get("/staff/"))
    staff_menu = staff_menu[staff_menu.index('class="nav-menu"') : staff_menu.index("</nav>")]
    assert 'href="/staff/" aria-current="page"' in staff_menu and 'href="/admin/"' in staff_menu
    assert 'href="/accounts/security/"' in staff_menu


def test_no_portal_menu_during_the_second_factor_step():
    user = UserFactory(kind="patient")
    add_totp(user)
    page = text(password_only_client(user).get(LOGIN))
    assert 'name="otp_token"' in page
    assert "nav-menu" not in page and 'href="/records/"' not in page


def test_no_portal_menu_for_visitors():
    assert "nav-menu" not in text(Client().get("/"))


def test_a_refused_request_is_listed_like_any_other():
    """The trail's refusals for a block look like a request not answered yet."""
    profile, pro = practitioner_with_login()
    patient, _client, nir = enrolled_patient()
    Block.objects.create(patient=patient, practitioner=profile.user)
    ask_access(pro, nir)
    assert AuditEvent.objects.filter(actor=profile.user, action=Action.REQUEST_ACCESS).exists()
    page = text(pro.get("/pro/workspace/"))
    assert page.count("en attente de la réponse du patient") == 1
    assert str(patient.pk) not in page and "Dupont" not in page


def test_every_kind_of_account_has_a_landing_page():
    assert set(settings.LANDING_URL_NAMES) == set(UserKind.values)
    for name in settings.LANDING_URL_NAMES.values():
        reverse(name)


def test_the_workspace_lists_the_latest_consents_and_says_so_when_there_are_more(monkeypatch):
    monkeypatch.setattr("access_control.landing.WORKSPACE_PATIENTS", 2)
    profile, pro = practitioner_with_login()
    for label in ("Premier", "Deuxieme", "Troisieme"):
        patient, _client = named_patient(label, "Anne")
        Consent.objects.create(patient=patient, practitioner=profile.user)
    page = text(pro.get("/pro/workspace/"))
    assert "Deuxieme Anne" in page and "Troisieme Anne" in page and "Premier" not in page
    assert "Seuls les 2 accès les plus récents sont affichés" in page
