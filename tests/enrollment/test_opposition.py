"""A person's opposition to the creation of their record: recorded and lifted by one staff member
in the admin (through the door, on the person's registry chain), or by the registry's import
file; then enrolment never sends them a letter, and answers them exactly as anyone else."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from audit.models import AuditEvent
from enrollment.models import Beneficiary, CreationCode, EnrollmentRequest, RequestOutcome
from enrollment.services.opposition import set_opposition
from enrollment.services.registry_changes import StaffRefused
from letters.models import Letter, LetterState
from letters.services import render
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, logged_in_client
from tests.enrollment.factories import REFUSAL, make_beneficiary, make_nir, submit_code
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db
HEADER = (
    "nir,last_name,first_name,birth_date,delivery_point,building,street,locality,"
    "postcode,city,country,regime"
)


def opposition_url(person) -> str:
    return f"/admin/enrollment/beneficiary/{person.pk}/opposition/"


def change_url(person) -> str:
    return f"/admin/enrollment/beneficiary/{person.pk}/change/"


def events(action: str, person=None):
    found = AuditEvent.objects.filter(action=action).select_related("chain")
    if person is not None:
        found = found.filter(chain__key=f"registry:{person.pk}")
    return found


def opposed_at(person):
    return Beneficiary.objects.get(pk=person.pk).opposed_at


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def staff():
    user = StaffFactory()
    return user, logged_in_client(user)


# --- In the admin ---------------------------------------------------------------------------


def test_one_staff_member_records_then_lifts_an_opposition_on_the_persons_chain(staff):
    person = make_beneficiary()
    user, client = staff
    page = client.get(change_url(person)).content.decode()
    assert 'value="set"' in page and "Enregistrer l'opposition" in page
    response = client.post(opposition_url(person), {"opposition": "set"}, follow=True)
    assert "Opposition enregistrée" in " ".join(messages_of(response))
    assert opposed_at(person) is not None
    event = events("set-opposition", person).get()
    assert (event.actor_id, event.actor_role, event.outcome) == (user.pk, "staff", "allowed")
    page = client.get(change_url(person)).content.decode()
    assert 'value="lift"' in page and "Lever l'opposition" in page
    # The list says who opposed (a date), never who they are.
    listing = client.get("/admin/enrollment/beneficiary/?opposed_at__isempty=0").content.decode()
    assert str(person.uid) in listing and "Dupont" not in listing
    # Lifted by the same staff member, or any colleague: one decision each, both recorded.
    client.post(opposition_url(person), {"opposition": "lift"})
    assert opposed_at(person) is None
    assert events("lift-opposition", person).get().actor_id == user.pk


def test_recording_it_stops_the_code_already_sent_and_the_letters_waiting(staff, posted_code):
    person = make_beneficiary()
    code = posted_code(person)
    letter = Letter.objects.get(subject_uid=person.uid)
    assert letter.state == LetterState.RENDERED
    staff[1].post(opposition_url(person), {"opposition": "set"})
    assert Letter.objects.get(pk=letter.pk).state == LetterState.VOID
    assert not CreationCode.objects.filter(beneficiary=person).live().exists()
    # The code in the person's hands opens nothing: the one answer to every wrong code.
    refused = submit_code(Client(), person.nir, code)
    assert REFUSAL in refused.content.decode()
    assert Beneficiary.objects.get(pk=person.pk).patient_id is None


def test_a_person_with_a_record_cannot_be_opposed(staff):
    patient, _client = patient_with_login()
    person = make_beneficiary()
    Beneficiary.objects.filter(pk=person.pk).update(patient=patient)
    _user, client = staff
    page = client.get(change_url(person)).content.decode()
    assert 'value="set"' not in page and "la fermeture du dossier" in page.lower()
    response = client.post(opposition_url(person), {"opposition": "set"}, follow=True)
    said = " ".join(messages_of(response))
    assert "a déjà un dossier" in said and "patient" in said
    assert opposed_at(person) is None
    assert not AuditEvent.objects.filter(action="set-opposition").exists()
    # The database itself refuses both at once.
    with pytest.raises(IntegrityError), transaction.atomic():
        Beneficiary.objects.filter(pk=person.pk).update(opposed_at="2026-01-01T00:00:00Z")


def test_nothing_to_lift_and_a_bad_choice_are_explained_and_change_nothing(staff):
    person = make_beneficiary()
    _user, client = staff
    said = messages_of(client.post(opposition_url(person), {"opposition": "lift"}, follow=True))
    assert "ne s'est pas opposée" in " ".join(said)
    said = messages_of(client.post(opposition_url(person), {"opposition": "oui"}, follow=True))
    assert "Choisissez" in " ".join(said)
    assert opposed_at(person) is None
    assert not AuditEvent.objects.filter(action__in=["set-opposition", "lift-opposition"]).exists()


def test_staff_without_the_permission_and_outsiders_are_refused_and_change_nothing():
    person = make_beneficiary()
    plain = logged_in_client(StaffFactory(is_superuser=False))
    assert plain.post(opposition_url(person), {"opposition": "set"}).status_code == 403
    patient, patient_client = patient_with_login()
    answer = patient_client.post(opposition_url(person), {"opposition": "set"})
    assert answer.status_code == 302 and "/login/" in answer["Location"]
    assert opposed_at(person) is None
    assert not events("set-opposition").exists()
    # Called directly, the door refuses a practitioner, and the refusal is recorded.
    practitioner = PractitionerProfileFactory().user
    with pytest.raises(StaffRefused):
        set_opposition(practitioner, person.pk, opposed=True)
    assert opposed_at(person) is None
    refusal = events("set-opposition", person).get()
    assert (refusal.actor_id, refusal.outcome) == (practitioner.pk, "refused")


@pytest.mark.csrf_raw
def test_the_post_needs_the_csrf_token(staff):
    person = make_beneficiary()
    _user, client = staff
    client.cookies["csrftoken"] = "a" * 32
    for forged in ({}, {"csrfmiddlewaretoken": "b" * 32}):
        response = client.post(
            opposition_url(person),
            {"opposition": "set", **forged},
            headers={"Origin": "http://testserver"},
        )
        assert response.status_code == 403
    assert opposed_at(person) is None
    assert not events("set-opposition").exists()


# --- The import file ------------------------------------------------------------------------


def run_import(tmp_path, header: str, body: str) -> list[str]:
    path = tmp_path / "beneficiaries.csv"
    path.write_text(header + "\n" + body, encoding="utf-8")
    out = StringIO()
    call_command("import_beneficiaries", str(path), stdout=out)
    return out.getvalue().strip().splitlines()


def row(nir: str, opposition: str | None = None, city: str = "Paris") -> str:
    base = f"{nir},Dupont,Léa,1985-05-14,,,3 rue des Lilas,,75015,{city},,general"
    return base if opposition is None else f"{base},{opposition}"


def test_the_import_column_sets_lifts_or_leaves_the_opposition(tmp_path):
    opposed, lifted, unchanged, absent = (make_nir() for _index in range(4))
    make_beneficiary(nir=lifted)
    make_beneficiary(nir=unchanged)
    Beneficiary.objects.update(opposed_at="2026-01-02T10:00:00Z")
    body = "\n".join([row(opposed, "OUI "), row(lifted, "non"), row(unchanged, "")]) + "\n"
    lines = run_import(tmp_path, HEADER + ",opposition", body)
    assert lines == ["created=1 updated=2 rejected=0"]
    by_nir = {person.nir: person for person in Beneficiary.objects.all()}
    assert by_nir[opposed].opposed_at is not None
    assert by_nir[lifted].opposed_at is None
    assert by_nir[unchanged].opposed_at.isoformat() == "2026-01-02T10:00:00+00:00"
    # Through the door, as the command's operator: on each person's registry chain, in no
    # portal account's name, the reason naming the import and the operating-system user.
    for action, person in (("set-opposition", opposed), ("lift-opposition", lifted)):
        event = events(action, by_nir[person]).get()
        assert (event.actor_id, event.outcome) == (None, "allowed")
        assert event.reason.startswith("command-line:registry-import:")
        assert len(event.reason) > len("command-line:registry-import:")
    # A file without the column leaves every flag as it is.
    assert run_import(tmp_path, HEADER, row(absent) + "\n" + row(opposed) + "\n")[0] == (
        "created=1 updated=1 rejected=0"
    )
    assert Beneficiary.objects.get(pk=by_nir[opposed].pk).opposed_at is not None


def test_a_bad_value_rejects_the_row_in_french_and_changes_nothing(tmp_path):
    known = make_nir()
    make_beneficiary(nir=known)
    new = make_nir()
    body = row(known, "peut-être", city="Lyon") + "\n" + row(new, "1") + "\n"
    lines = run_import(tmp_path, HEADER + ",opposition", body)
    assert lines[0] == "created=0 updated=0 rejected=2"
    reasons = dict(line.split(" : ", 1) for line in lines[1:])
    assert "« peut-être »" in reasons["ligne 2"] and "oui" in reasons["ligne 2"]
    assert "non" in reasons["ligne 3"] and "vide" in reasons["ligne 3"]
    assert Beneficiary.objects.count() == 1
    person = Beneficiary.objects.get()
    assert person.opposed_at is None
    assert person.address["lines"][-1] == "75015 PARIS"  # the row's city was not taken
    assert not events("set-opposition").exists()


def test_oui_for_a_person_with_a_record_is_ignored_and_the_rest_of_the_row_taken(tmp_path):
    """The national file may keep saying ``oui`` after the person enrolled: their new address
    is taken at every import, the opposition value is ignored and said so on a line of its
    own (its line number, never the NIR or a name)."""
    patient, _client = patient_with_login()
    enrolled = make_beneficiary()
    Beneficiary.objects.filter(pk=enrolled.pk).update(patient=patient)
    other = make_nir()
    body = row(other) + "\n" + row(enrolled.nir, "OUI", city="Lyon") + "\n"
    lines = run_import(tmp_path, HEADER + ",opposition", body)
    assert lines == [
        "created=1 updated=1 rejected=0",
        "ligne 3 : opposition ignorée : cette personne a déjà un dossier, et l'opposition à sa "
        "création ne s'applique plus. Le reste de la ligne a été pris en compte.",
    ]
    person = Beneficiary.objects.get(pk=enrolled.pk)
    assert person.opposed_at is None and person.patient_id == patient.pk
    assert person.address["lines"][-1] == "75015 LYON"  # the row's new city was taken
    assert enrolled.nir not in "\n".join(lines) and "Dupont" not in "\n".join(lines)
    assert not events("set-opposition").exists()


def test_a_refusal_of_the_door_leaves_the_flag_and_is_recorded(tmp_path, monkeypatch):
    """Should the door ever refuse the import's operator, the refusal is recorded with the rest
    of the row, the flag stays as it was and the line says so."""
    monkeypatch.setattr("access_control.policy.OPERATOR_ACTIONS", set())
    person = make_beneficiary()
    lines = run_import(tmp_path, HEADER + ",opposition", row(person.nir, "oui", city="Lyon"))
    assert lines[0] == "created=0 updated=1 rejected=0"
    assert lines[1].startswith("ligne 2 : ")
    assert opposed_at(person) is None
    assert Beneficiary.objects.get(pk=person.pk).address["lines"][-1] == "75015 LYON"
    refusal = events("set-opposition", person).get()
    assert (refusal.actor_id, refusal.outcome) == (None, "refused")


# --- Enrolment: no letter, the same answer --------------------------------------------------


def without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]+"', b"", content)


def statement(sql: str) -> str:
    """The SQL without its values (blind index, times) nor savepoint names."""
    return re.sub(r'"s\d+_x\d+"', '"savepoint"', re.sub(r"'[^']*'", "?", sql))


def ask(client: Client, nir: str):
    return client.post("/enrollment/", {"nir": nir, "nir_confirmation": nir})


def test_an_opposed_person_gets_no_letter_and_exactly_the_answer_anyone_gets(
    django_capture_on_commit_callbacks,
):
    opposed = make_beneficiary()
    Beneficiary.objects.filter(pk=opposed.pk).update(opposed_at="2026-01-02T10:00:00Z")
    eligible = make_beneficiary()
    answers, queries = [], []
    for person in (opposed, eligible):
        client = Client()
        client.get("/enrollment/")
        with (
            CaptureQueriesContext(connection) as captured,
            django_capture_on_commit_callbacks(execute=False) as queued,
        ):
            response = ask(client, person.nir)
        answers.append((response.status_code, without_csrf(response.content)))
        queries.append([statement(query["sql"]) for query in captured.captured_queries])
        assert len(queued) == 1  # the same task queued for both
        for callback in queued:
            callback()
    # The same page, byte for byte, after the same statements.
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert queries[0] == queries[1]
    # In the back: a creation letter for one, nothing at all for the other.
    assert not Letter.objects.filter(subject_uid=opposed.uid).exists()
    assert not CreationCode.objects.filter(beneficiary=opposed).exists()
    assert Letter.objects.filter(subject_uid=eligible.uid, kind="creation_code").exists()
    assert list(EnrollmentRequest.objects.order_by("pk").values_list("outcome", flat=True)) == [
        RequestOutcome.OPPOSED,
        RequestOutcome.LETTER,
    ]


def test_a_letter_asked_before_the_opposition_and_rendered_after_is_void():
    """A letter that slipped past the opposition (asked for, not rendered yet) carries no code."""
    person = make_beneficiary()
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    Beneficiary.objects.filter(pk=person.pk).update(opposed_at="2026-01-02T10:00:00Z")
    render(letter.pk)
    assert Letter.objects.get(pk=letter.pk).state == LetterState.VOID
    assert not CreationCode.objects.filter(beneficiary=person).exists()
