"""A minor's confidential care on the pages (issue 17, item 4; public health code art.
L1111-5): the practitioner author keeps a document of a minor's record from the legal
representatives at the upload (a checkbox on a minor's record only) or on the document's page,
and lifts it; each change through the door, recorded, refusals included; an adult's record is
refused with a French message, a practitioner without consent and every third user get 404, and
nothing changes."""

from __future__ import annotations

from datetime import date, timedelta
from unittest import mock

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.utils import timezone

from access_control import policy
from access_control.decisions import Decision
from access_control.models import Consent, LegalRepresentation, RecordSettings
from audit.models import Action, AuditEvent, Mode, Outcome
from records.models import Document, DocumentStatus
from tests.access_control.factories import practitioner_with_login
from tests.accounts.factories import UserFactory, give_verified_email, logged_in_client
from tests.enrollment.factories import make_beneficiary
from tests.records.factories import add_document, patient_with_login, pdf_upload

pytestmark = pytest.mark.django_db

MARK = "/records/{}/confidential/"
LIFT = "/records/{}/not-confidential/"
NOT_A_MINOR = (
    "Seul un document du dossier d'un mineur peut être rendu confidentiel vis-à-vis des"
    " représentants légaux : d'après le registre des assurés, ce patient a 18 ans ou plus."
)
CHECKBOX = 'name="confidential_from_representatives"'


def a_year_on():
    """A representation's last day within the test's minority (the child is far from 18)."""
    return timezone.localdate() + timedelta(days=365)


def in_registry(patient, born: date) -> None:
    person = make_beneficiary(born=born)
    type(person).objects.filter(pk=person.pk).update(patient=patient)


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    """A minor (11 years old in the registry) with a legal representative and a confirmed
    address, an adult, the author (a practitioner with consent on both), another practitioner
    with consent (not the author), one without consent, and another patient."""
    minor, minor_client = patient_with_login()
    in_registry(minor, date(2015, 1, 2))
    give_verified_email(minor, "mineur@example.fr")
    RecordSettings.objects.update_or_create(patient=minor, defaults={"notify_new_document": True})
    adult, _adult_client = patient_with_login()
    in_registry(adult, date(1985, 5, 14))
    representative = UserFactory(kind="patient")
    LegalRepresentation.objects.create(
        minor=minor, representative=representative, until=a_year_on()
    )
    author, author_client = practitioner_with_login()
    other, other_client = practitioner_with_login()
    stranger, stranger_client = practitioner_with_login()
    for patient in (minor, adult):
        for profile in (author, other):
            Consent.objects.create(patient=patient, practitioner=profile.user)
    # The author's first access (its notice, about no document, is never sent: not run on commit).
    assert author_client.get(f"/pro/patients/{minor.pk}/").status_code == 200
    return {
        "minor": minor,
        "minor_client": minor_client,
        "adult": adult,
        "representative": representative,
        "representative_client": logged_in_client(representative),
        "author": author.user,
        "author_client": author_client,
        "other_client": other_client,
        "stranger_client": stranger_client,
        "other_patient_client": patient_with_login()[1],
        "callbacks": django_capture_on_commit_callbacks,
    }


def authored(world, patient, title="Contraception") -> Document:
    return add_document(patient, title=title, category="biologie", author=world["author"])


def flags() -> list[tuple]:
    return list(
        Document.objects.order_by("pk").values_list("uid", "confidential_from_representatives")
    )


def events(patient, action) -> list[tuple[str, str, str]]:
    rows = AuditEvent.objects.filter(patient=patient, action=action).order_by("sequence")
    return list(rows.values_list("outcome", "reason", "mode"))


def texts(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- The document's page ---------------------------------------------------------------------


def test_the_author_keeps_a_minors_document_confidential_then_lifts_it(world):
    minor, client = world["minor"], world["author_client"]
    document = authored(world, minor)
    page = client.get(f"/records/{document.uid}/").content.decode()
    assert MARK.format(document.uid) in page and LIFT.format(document.uid) not in page

    response = client.post(MARK.format(document.uid))
    assert response.status_code == 302 and response["Location"] == f"/records/{document.uid}/"
    document.refresh_from_db()
    assert document.confidential_from_representatives
    assert events(minor, Action.HIDE_FROM_REPRESENTATIVES) == [
        (Outcome.ALLOWED, "author", Mode.NORMAL)
    ]
    page = client.get(f"/records/{document.uid}/").content.decode()
    assert 'data-testid="confidential"' in page and LIFT.format(document.uid) in page

    assert client.post(LIFT.format(document.uid)).status_code == 302
    document.refresh_from_db()
    assert not document.confidential_from_representatives
    assert events(minor, Action.SHOW_TO_REPRESENTATIVES) == [
        (Outcome.ALLOWED, "author", Mode.NORMAL)
    ]


def test_every_version_is_marked_and_a_new_version_keeps_it(world):
    minor, client = world["minor"], world["author_client"]
    first = authored(world, minor)
    response = client.post(
        f"/records/{first.uid}/replace/",
        {"title": "Contraception, corrigé", "category": "biologie", "file": pdf_upload()},
    )
    assert response.status_code == 302
    second = Document.objects.get(replaces=first)
    assert client.post(MARK.format(second.uid)).status_code == 302
    assert set(Document.objects.values_list("confidential_from_representatives", flat=True)) == {
        True
    }
    response = client.post(
        f"/records/{second.uid}/replace/",
        {"title": "Contraception, v3", "category": "biologie", "file": pdf_upload()},
    )
    assert response.status_code == 302
    assert Document.objects.get(replaces=second).confidential_from_representatives


def test_an_adults_document_is_refused_with_a_message_and_nothing_changes(world):
    adult, client = world["adult"], world["author_client"]
    document = authored(world, adult)
    page = client.get(f"/records/{document.uid}/").content.decode()
    assert MARK.format(document.uid) not in page  # not offered on an adult's record
    before = flags()
    response = client.post(MARK.format(document.uid))
    assert response.status_code == 302 and response["Location"] == f"/records/{document.uid}/"
    assert texts(response) == [NOT_A_MINOR]
    assert flags() == before
    refused = AuditEvent.objects.get(patient=adult, action=Action.HIDE_FROM_REPRESENTATIVES)
    assert (refused.outcome, refused.reason, refused.document_uid) == (
        Outcome.REFUSED,
        "not-a-minor",
        document.uid,
    )


def test_a_practitioner_without_consent_gets_404_and_learns_nothing_of_the_age(world):
    for patient in (world["minor"], world["adult"]):
        document = authored(world, patient)
        before = flags()
        for url in (MARK, LIFT):
            assert world["stranger_client"].post(url.format(document.uid)).status_code == 404
        assert flags() == before
        reasons = {reason for _o, reason, _m in events(patient, Action.HIDE_FROM_REPRESENTATIVES)}
        assert reasons == {"no-consent"}


@pytest.mark.parametrize(
    "who", ["other_client", "minor_client", "representative_client", "other_patient_client"]
)
def test_every_third_user_gets_404_and_changes_nothing(world, who):
    minor = world["minor"]
    document = authored(world, minor)
    Document.objects.filter(pk=document.pk).update(confidential_from_representatives=True)
    mark_me = authored(world, minor, title="Vaccins")
    before = flags()
    assert world[who].post(LIFT.format(document.uid)).status_code == 404
    assert world[who].post(MARK.format(mark_me.uid)).status_code == 404
    assert flags() == before
    for action in (Action.HIDE_FROM_REPRESENTATIVES, Action.SHOW_TO_REPRESENTATIVES):
        assert {outcome for outcome, _r, _m in events(minor, action)} == {Outcome.REFUSED}


def test_a_get_is_refused(world):
    document = authored(world, world["minor"])
    assert world["author_client"].get(MARK.format(document.uid)).status_code == 405
    document.refresh_from_db()
    assert not document.confidential_from_representatives


# --- The upload ------------------------------------------------------------------------------


def upload(world, patient, **controls):
    with world["callbacks"](execute=True):
        response = world["author_client"].post(
            f"/pro/patients/{patient.pk}/upload/",
            {
                "title": "Test de grossesse",
                "category": "biologie",
                "file": pdf_upload(),
                **controls,
            },
        )
    assert response.status_code == 302, response.content.decode()
    return Document.objects.filter(patient=patient).latest("created_at")


def test_the_checkbox_is_offered_on_a_minors_record_only(world):
    for patient, offered in ((world["minor"], True), (world["adult"], False)):
        page = world["author_client"].get(f"/pro/patients/{patient.pk}/upload/")
        assert (CHECKBOX in page.content.decode()) is offered


def test_an_upload_kept_confidential_is_recorded_and_sends_no_email(world):
    minor = world["minor"]
    document = upload(world, minor, confidential_from_representatives="on")
    assert document.confidential_from_representatives
    assert events(minor, Action.HIDE_FROM_REPRESENTATIVES) == [
        (Outcome.ALLOWED, "author", Mode.NORMAL)
    ]
    assert mail.outbox == []  # the minor's mailbox may be read by their representatives
    # Without the box ticked: an ordinary document, and its usual e-mail.
    ordinary = upload(world, minor)
    assert not ordinary.confidential_from_representatives
    assert len(mail.outbox) == 1


def test_a_forged_box_on_an_adults_upload_marks_nothing(world):
    adult = world["adult"]
    document = upload(world, adult, confidential_from_representatives="on")
    assert not document.confidential_from_representatives
    assert not AuditEvent.objects.filter(action=Action.HIDE_FROM_REPRESENTATIVES).exists()


def test_the_owner_always_reads_it(world):
    minor = world["minor"]
    document = upload(world, minor, confidential_from_representatives="on")
    assert world["minor_client"].get(f"/records/{document.uid}/").status_code == 200
    listing = world["minor_client"].get("/records/").content.decode()
    assert document.title in listing
    assert document.status == DocumentStatus.CURRENT


def test_a_door_refusing_everything_refuses_the_control_and_reads_no_age(world):
    """The door patched to refuse every question: the author's change is refused, recorded with
    the door's reason, nothing changes, and the registry's birth date is never read."""
    minor = world["minor"]
    document = authored(world, minor)
    before = flags()

    def refuse(*args, **kwargs):
        return Decision(False, "refused-by-test")

    with (
        mock.patch.object(policy, "decide", refuse),
        mock.patch("access_control.confidential.is_minor", side_effect=AssertionError),
    ):
        assert world["author_client"].post(MARK.format(document.uid)).status_code == 404
        page = world["author_client"].get(f"/pro/patients/{minor.pk}/upload/")
        assert page.status_code == 404
    assert flags() == before
    assert events(minor, Action.HIDE_FROM_REPRESENTATIVES) == [
        (Outcome.REFUSED, "refused-by-test", Mode.NORMAL)
    ]
