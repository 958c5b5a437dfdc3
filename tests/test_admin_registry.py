"""The registry admin: identity reads audited, and changes only with four eyes.

The attack this closes: one staff member changed a not-yet-enrolled person's address in the
admin, exported the letters, and so received that person's creation code. Now every identity
shown and every NIR look-up lands on the person's chain naming the staff member; a change is a
proposal that a second, different staff member confirms; a confirmed move stops the codes sent
to the old address.
"""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client

from audit.models import AuditEvent
from enrollment.models import Beneficiary, CreationCode, RegistryChange
from letters.models import Letter, LetterState
from tests.accounts.factories import PractitionerProfileFactory, StaffFactory, logged_in_client
from tests.crypto.canaries import forms_of
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.letters.reading import code_from_letter
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db
NIR = "185057800608491"
MOVE = {
    "last_name": "Dupont",
    "first_name": "Léa",
    "birth_date": "1985-05-14",
    "regime": "general",
    "delivery_point": "",
    "building": "",
    "street": "9 impasse du Complice",
    "locality": "",
    "postcode": "13001",
    "city": "Marseille",
    "country": "",
}


def change_url(person) -> str:
    return f"/admin/enrollment/beneficiary/{person.pk}/change/"


def review_url(change) -> str:
    return f"/admin/enrollment/registrychange/{change.pk}/review/"


def events(action: str, person=None):
    found = AuditEvent.objects.filter(action=action).select_related("chain")
    if person is not None:
        found = found.filter(chain__key=f"registry:{person.pk}")
    return found


def registry_of(person) -> tuple:
    person = Beneficiary.objects.get(pk=person.pk)
    return (
        person.last_name,
        person.first_name,
        person.birth_date,
        person.regime,
        tuple(person.address["lines"]),
    )


@pytest.fixture
def staff():
    user = StaffFactory()
    return user, logged_in_client(user)


@pytest.fixture
def second_staff():
    user = StaffFactory()
    return user, logged_in_client(user)


def test_the_list_decrypts_nobody(staff):
    person = make_beneficiary(nir=NIR, last_name="Dupont")
    _user, client = staff
    listing = client.get("/admin/enrollment/beneficiary/")
    assert listing.status_code == 200
    content = listing.content.decode()
    assert str(person.uid) in content
    for clear in ("Dupont", "DUPONT", "Léa", "1 85 ••", "LILAS", "75015"):
        assert clear not in content
    assert not AuditEvent.objects.exists()


def test_a_look_up_by_nir_is_recorded_on_the_persons_chain_naming_the_staff(staff):
    person = make_beneficiary(nir=NIR)
    user, client = staff
    found = client.post("/admin/enrollment/beneficiary/find/", {"nir": "1 85 05 78 006 084 91"})
    assert found["Location"] == change_url(person)
    event = events("lookup", person).get()
    assert (event.actor_id, event.actor_role, event.outcome) == (user.pk, "staff", "allowed")
    # A number nobody has: recorded too, on the system chain, and the number is in no event.
    client.post("/admin/enrollment/beneficiary/find/", {"nir": make_nir()})
    assert events("lookup").filter(chain__key="system", actor=user).count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM access_control_auditevent")
        dump = repr(cursor.fetchall())
    assert NIR not in dump and "006 084" not in dump


def test_opening_a_person_is_an_audited_identity_read(staff):
    person = make_beneficiary(nir=NIR)
    enrolled_patient, _client = patient_with_login()
    enrolled = make_beneficiary(last_name="Inscrite")
    Beneficiary.objects.filter(pk=enrolled.pk).update(patient=enrolled_patient)
    user, client = staff
    page = client.get(change_url(person))
    assert page.status_code == 200 and "Dupont" in page.content.decode()
    event = events("view-identity", person).get()
    assert (event.actor_id, event.outcome) == (user.pk, "allowed")
    # Someone with a record: the read lands on their record's chain.
    client.get(change_url(enrolled))
    assert (
        events("view-identity")
        .filter(chain__key=f"patient:{enrolled_patient.pk}", actor=user)
        .exists()
    )


def test_saving_the_form_only_proposes_and_the_proposal_is_encrypted(staff):
    person = make_beneficiary(nir=NIR)
    before = registry_of(person)
    user, client = staff
    response = client.post(change_url(person), MOVE)
    assert response.status_code == 302
    assert registry_of(person) == before
    change = RegistryChange.objects.get(beneficiary=person)
    assert (change.state, change.proposed_by_id, change.changed_fields) == (
        "pending",
        user.pk,
        "address",
    )
    assert change.values["address"]["lines"][-1] == "13001 MARSEILLE"
    assert events("propose-change", person).get().actor_id == user.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT values FROM enrollment_registrychange")
        stored = bytes(cursor.fetchone()[0])
    for clear in ("COMPLICE", "Complice", "13001", "MARSEILLE"):
        for form in forms_of(clear):
            assert form not in stored
    # The review queue names the kind of change, never a value.
    queue = client.get("/admin/enrollment/registrychange/").content.decode()
    assert "address" in queue and "MARSEILLE" not in queue and "Complice" not in queue


def test_the_proposer_cannot_confirm_their_own_change(staff):
    person = make_beneficiary(nir=NIR)
    before = registry_of(person)
    _user, client = staff
    client.post(change_url(person), MOVE)
    change = RegistryChange.objects.get(beneficiary=person)
    page = client.get(review_url(change)).content.decode()
    assert 'value="confirm"' not in page
    client.post(review_url(change), {"decision": "confirm"})
    assert registry_of(person) == before
    assert RegistryChange.objects.get(pk=change.pk).state == "pending"
    # The door refused, and its refusal is on the person's chain, naming the proposer.
    refusal = events("confirm-change", person).get()
    assert (refusal.actor_id, refusal.outcome, refusal.reason) == (
        _user.pk,
        "refused",
        "four-eyes-own-proposal",
    )


def test_a_second_staff_member_confirms_and_the_change_applies(staff, second_staff):
    person = make_beneficiary(nir=NIR)
    _proposer, client = staff
    client.post(change_url(person), MOVE)
    change = RegistryChange.objects.get(beneficiary=person)
    confirmer, other = second_staff
    page = other.get(review_url(change))
    assert "MARSEILLE" in page.content.decode() and 'value="confirm"' in page.content.decode()
    assert events("view-identity", person).filter(actor=confirmer).exists()
    response = other.post(review_url(change), {"decision": "confirm"})
    assert response.status_code == 302
    assert registry_of(person)[-1][-1] == "13001 MARSEILLE"
    change.refresh_from_db()
    assert (change.state, change.decided_by_id) == ("confirmed", confirmer.pk)
    assert events("confirm-change", person).get().actor_id == confirmer.pk
    # Decided once: a second confirmation changes nothing more.
    other.post(review_url(change), {"decision": "reject"})
    assert RegistryChange.objects.get(pk=change.pk).state == "confirmed"


def test_a_rejected_change_leaves_the_registry_as_it_was(staff, second_staff):
    person = make_beneficiary(nir=NIR)
    before = registry_of(person)
    staff[1].post(change_url(person), MOVE)
    change = RegistryChange.objects.get(beneficiary=person)
    second_staff[1].post(review_url(change), {"decision": "reject"})
    assert registry_of(person) == before
    assert RegistryChange.objects.get(pk=change.pk).state == "rejected"
    assert events("confirm-change", person).get().actor_id == second_staff[0].pk


def test_the_database_refuses_a_self_confirmed_change(staff):
    person = make_beneficiary(nir=NIR)
    staff[1].post(change_url(person), MOVE)
    change = RegistryChange.objects.get(beneficiary=person)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegistryChange.objects.filter(pk=change.pk).update(decided_by=staff[0])


def test_a_confirmed_move_stops_the_old_code_and_sends_a_new_letter(
    staff, second_staff, django_capture_on_commit_callbacks
):
    person = make_beneficiary(nir=NIR)
    with django_capture_on_commit_callbacks(execute=True):
        Client(REMOTE_ADDR="192.0.2.10").post("/enrollment/", {"nir": NIR, "nir_confirmation": NIR})
    old_letter = Letter.objects.get(subject_uid=person.uid)
    old_code = code_from_letter(old_letter)
    assert old_letter.state == LetterState.RENDERED
    staff[1].post(change_url(person), MOVE)
    change = RegistryChange.objects.get(beneficiary=person)
    with django_capture_on_commit_callbacks(execute=True):
        second_staff[1].post(review_url(change), {"decision": "confirm"})
    assert Letter.objects.get(pk=old_letter.pk).state == LetterState.VOID
    new_letter = Letter.objects.exclude(pk=old_letter.pk).get(subject_uid=person.uid)
    assert new_letter.state == LetterState.RENDERED
    assert new_letter.postal["postcode"] == "13001"
    assert CreationCode.objects.filter(beneficiary=person, superseded_at__isnull=True).count() == 1
    refused = Client().post("/enrollment/activate/", {"nir": NIR, "creation_code": old_code})
    assert refused.status_code == 200  # the form again, with the one refusal for every case
    assert CreationCode.objects.filter(beneficiary=person, used_at__isnull=False).count() == 0
    new_code = code_from_letter(new_letter)
    accepted = Client().post("/enrollment/activate/", {"nir": NIR, "creation_code": new_code})
    assert accepted.status_code == 302


def test_a_second_proposal_waits_for_the_first(staff, second_staff):
    person = make_beneficiary(nir=NIR)
    staff[1].post(change_url(person), MOVE)
    again = second_staff[1].post(change_url(person), {**MOVE, "city": "Lyon", "postcode": "69001"})
    assert again.status_code == 200  # the form again, with the reason
    assert RegistryChange.objects.filter(beneficiary=person).count() == 1
    same = {
        **MOVE,
        "delivery_point": "Appartement 12",
        "building": "Résidence Les Tilleuls",
        "street": "3 rue des Lilas",
        "postcode": "75015",
        "city": "Paris",
    }
    other = make_beneficiary()
    unchanged = second_staff[1].post(change_url(other), same)
    assert unchanged.status_code == 200  # nothing to change: the form again, with the reason
    assert not RegistryChange.objects.filter(beneficiary=other).exists()


def test_bad_input_changes_nothing(staff):
    person = make_beneficiary(nir=NIR)
    before = registry_of(person)
    response = staff[1].post(change_url(person), {**MOVE, "birth_date": "14/05/1985"})
    assert response.status_code == 200
    assert "AAAA-MM-JJ" in response.content.decode()
    assert registry_of(person) == before
    assert not RegistryChange.objects.exists()


def test_the_import_supersedes_an_open_proposal_and_still_reports_the_same(staff, tmp_path):
    person = make_beneficiary(nir=NIR)
    staff[1].post(change_url(person), MOVE)
    path = tmp_path / "registry.csv"
    path.write_text(
        "nir,last_name,first_name,birth_date,delivery_point,building,street,locality,"
        f"postcode,city,country,regime\n{NIR},Dupont,Léa,1985-05-14,,,5 rue Neuve,,69001,Lyon,,"
        "general\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command("import_beneficiaries", str(path), stdout=out)
    assert out.getvalue().strip() == "created=0 updated=1 rejected=0"
    assert registry_of(person)[-1][-1] == "69001 LYON"
    assert RegistryChange.objects.get(beneficiary=person).state == "superseded"


@pytest.mark.parametrize("who", ["staff_without_permission", "practitioner", "patient", "anon"])
def test_a_third_user_is_refused_and_changes_nothing(who, staff):
    person = make_beneficiary(nir=NIR)
    staff[1].post(change_url(person), {**MOVE, "city": "Lyon", "postcode": "69001"})
    change = RegistryChange.objects.get(beneficiary=person)
    before = registry_of(person)
    if who == "staff_without_permission":
        client = logged_in_client(StaffFactory(is_superuser=False))
    elif who == "practitioner":
        client = logged_in_client(PractitionerProfileFactory().user)
    elif who == "patient":
        client = patient_with_login()[1]
    else:
        client = Client()
    events_before = AuditEvent.objects.count()
    answers = [
        client.get(change_url(person)).status_code,
        client.post(change_url(person), MOVE).status_code,
        client.post("/admin/enrollment/beneficiary/find/", {"nir": NIR}).status_code,
        client.get(review_url(change)).status_code,
        client.post(review_url(change), {"decision": "confirm"}).status_code,
        client.post(f"/admin/enrollment/beneficiary/{person.pk}/delete/", {"post": "yes"}),
    ]
    answers[-1] = answers[-1].status_code
    assert all(status in (302, 403) for status in answers), answers
    assert registry_of(person) == before
    assert RegistryChange.objects.get(pk=change.pk).state == "pending"
    assert RegistryChange.objects.count() == 1
    assert Beneficiary.objects.filter(pk=person.pk).exists()
    assert AuditEvent.objects.count() == events_before  # nobody's identity was read
