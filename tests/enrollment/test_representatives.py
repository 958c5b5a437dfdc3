"""A minor's legal representatives in the registry (issue 17, item 1): the import's optional
column ``representative_nirs`` links the child's registry entry to one or two adults of the
registry, through the door as the import's operator, on the child's chain; a bad value rejects
the row in French and keeps nothing of it; a file without the column imports as before."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from access_control.purge import purge_record
from audit.models import AuditEvent
from enrollment.models import Beneficiary, RegistryRepresentative
from enrollment.services.registry import nir_index
from tests.access_control.closure_records import close_record
from tests.accounts.factories import StaffFactory, logged_in_client
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.records.factories import patient_with_login

pytestmark = pytest.mark.django_db
HEADER = (
    "nir,last_name,first_name,birth_date,delivery_point,building,street,locality,"
    "postcode,city,country,regime"
)
WITH_COLUMN = HEADER + ",representative_nirs"
# Said after each of the column's errors.
EXPECTED = (
    "Attendu : un ou deux numéros de sécurité sociale, ceux des représentants légaux du mineur, "
    "séparés par « ; » (par exemple 1 85 05 78 006 084 91;2 90 03 75 112 005 42), ou rien pour "
    "laisser les liens tels qu'ils sont."
)


def years_ago(years: int) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years, day=min(today.day, 28))


CHILD_BORN = years_ago(9)


def row(nir: str, born: date = date(1985, 5, 14), reps: str | None = None, city="Paris") -> str:
    base = f"{nir},Dupont,Léa,{born.isoformat()},,,3 rue des Lilas,,75015,{city},,general"
    return base if reps is None else f"{base},{reps}"


def run_import(tmp_path, header: str, *rows: str) -> list[str]:
    path = tmp_path / "beneficiaries.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    out = StringIO()
    call_command("import_beneficiaries", str(path), stdout=out)
    return out.getvalue().strip().splitlines()


def person(nir: str) -> Beneficiary:
    return Beneficiary.objects.get(nir_index=nir_index(nir))


def representatives_of(nir: str) -> set[str]:
    links = RegistryRepresentative.objects.filter(child=person(nir))
    return {link.representative.nir for link in links.select_related("representative__data_key")}


def link_events(child: Beneficiary, action: str = "link-representative"):
    return AuditEvent.objects.filter(action=action, chain__key=f"registry:{child.pk}")


def grouped(nir: str) -> str:
    """As a file may write it: groups separated by spaces, dots or dashes."""
    return f"{nir[0]} {nir[1:3]}.{nir[3:5]}-{nir[5:10]} {nir[10:13]} {nir[13:]}"


def test_one_or_two_representatives_are_linked_through_the_door_on_the_childs_chain(tmp_path):
    mother, father, only_child, twins = (make_nir() for _index in range(4))
    lines = run_import(
        tmp_path,
        WITH_COLUMN,
        row(mother, reps=""),
        row(father),  # a short row: the column is optional on each row too
        row(only_child, CHILD_BORN, grouped(mother)),
        row(twins, CHILD_BORN, f" {father} ; {grouped(mother)} "),
    )
    assert lines == ["created=4 updated=0 rejected=0"]
    assert representatives_of(only_child) == {mother}
    assert representatives_of(twins) == {mother, father}
    assert representatives_of(mother) == representatives_of(father) == set()
    # One event per link, on the child's registry chain, in no portal account's name, the
    # reason naming the import and the operating-system user.
    assert link_events(person(only_child)).count() == 1
    events = list(link_events(person(twins)))
    assert len(events) == 2
    for event in events:
        assert (event.actor_id, event.patient_id, event.outcome) == (None, None, "allowed")
        assert event.reason.startswith("command-line:registry-import:")
    assert not AuditEvent.objects.filter(chain__key=f"registry:{person(mother).pk}").exists()
    # No NIR in the links' table: they are rows of the registry, linked by their ids.
    assert {field.name for field in RegistryRepresentative._meta.concrete_fields} == {
        "id",
        "child",
        "representative",
        "linked_at",
    }


def test_a_parents_row_may_come_after_their_childs_row(tmp_path):
    parent, child = make_nir(), make_nir()
    lines = run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, parent), row(parent))
    assert lines == ["created=2 updated=0 rejected=0"]
    assert representatives_of(child) == {parent}
    assert link_events(person(child)).count() == 1


def test_importing_the_same_file_again_changes_nothing(tmp_path):
    mother, father, child = make_nir(), make_nir(), make_nir()
    rows = (row(child, CHILD_BORN, f"{mother};{father}"), row(mother), row(father))
    assert run_import(tmp_path, WITH_COLUMN, *rows) == ["created=3 updated=0 rejected=0"]
    links = set(RegistryRepresentative.objects.values_list("pk", "child_id", "representative_id"))
    events = AuditEvent.objects.count()
    assert run_import(tmp_path, WITH_COLUMN, *rows) == ["created=0 updated=3 rejected=0"]
    assert (
        set(RegistryRepresentative.objects.values_list("pk", "child_id", "representative_id"))
        == links
    )
    assert AuditEvent.objects.count() == events  # nothing linked or unlinked


def test_a_new_list_replaces_the_old_one_and_an_empty_value_or_no_column_keeps_it(tmp_path):
    mother, father, guardian, child = (make_nir() for _index in range(4))
    adults = [row(mother), row(father), row(guardian)]
    run_import(tmp_path, WITH_COLUMN, *adults, row(child, CHILD_BORN, f"{mother};{father}"))
    lines = run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, f"{guardian};{mother}"))
    assert lines == ["created=0 updated=1 rejected=0"]
    assert representatives_of(child) == {guardian, mother}
    child_entry = person(child)
    assert link_events(child_entry, "unlink-representative").count() == 1
    assert link_events(child_entry).count() == 3  # two at first, then the guardian
    lines = run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, guardian))
    assert representatives_of(child) == {guardian}
    # Empty, or no column at all: the links stay as they are, nothing is recorded.
    events = AuditEvent.objects.count()
    assert run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, " ")) == [
        "created=0 updated=1 rejected=0"
    ]
    assert run_import(tmp_path, HEADER, row(child, CHILD_BORN, city="Lyon")) == [
        "created=0 updated=1 rejected=0"
    ]
    assert representatives_of(child) == {guardian}
    assert person(child).address["lines"][-1] == "75015 LYON"
    assert AuditEvent.objects.count() == events


def test_a_file_in_todays_format_gives_the_same_result_as_before(tmp_path):
    """Today's exact header and rows, a minor among them (accepted without representatives, as
    before): the same report, the same people, no link and no event; the same file with an
    empty column gives the same again."""
    adult, minor = make_nir(), make_nir()
    rows = [
        row(adult),
        row(minor, CHILD_BORN),
        "12345,Court,Numéro,1985-05-14,,,1 rue X,,75001,Paris,,general",
    ]
    lines = run_import(tmp_path, HEADER, *rows)
    assert lines == [
        "created=2 updated=0 rejected=1",
        "ligne 4 : nir: Un numéro de sécurité sociale compte 15 caractères (13 chiffres et une "
        "clé de 2 chiffres) ; vous en avez saisi 5. Exemple : 1 85 05 78 006 084 91.",
    ]
    assert person(minor).birth_date == CHILD_BORN.isoformat()
    assert not RegistryRepresentative.objects.exists()
    assert not AuditEvent.objects.exists()
    again = run_import(tmp_path, WITH_COLUMN, *(f"{line}," for line in rows))
    assert again == ["created=0 updated=2 rejected=1", lines[1]]
    assert not RegistryRepresentative.objects.exists()


def bad_value_cases(parent: str, minor: str, child: str) -> list[tuple[str, date, str]]:
    """(representative_nirs, the row's birth date, the French reason after « ligne 2 : »)."""
    unknown = make_nir()
    prefix = "representative_nirs: "
    return [
        (
            f"{parent};12345",
            CHILD_BORN,
            prefix + "Numéro 2 : Un numéro de sécurité sociale compte 15 caractères (13 chiffres "
            "et une clé de 2 chiffres) ; vous en avez saisi 5. Exemple : 1 85 05 78 006 084 91. "
            + EXPECTED,
        ),
        (
            unknown,
            CHILD_BORN,
            prefix + "Le numéro 1 n'est pas dans le registre : un représentant légal doit y "
            "figurer aussi (par sa propre ligne, dans ce fichier ou un précédent). " + EXPECTED,
        ),
        (
            f"{parent};{child}",
            CHILD_BORN,
            prefix + "Une personne ne peut pas être son propre représentant légal. " + EXPECTED,
        ),
        (
            f"{parent};{minor};{make_nir()}",
            CHILD_BORN,
            prefix
            + "3 numéros donnés, alors qu'un mineur a un ou deux représentants légaux. "
            + EXPECTED,
        ),
        (
            f"{parent};{grouped(parent)}",
            CHILD_BORN,
            prefix + "La même personne est nommée deux fois. " + EXPECTED,
        ),
        (
            f"{parent};{minor}",
            CHILD_BORN,
            prefix + "Le numéro 2 est celui d'une personne mineure : un représentant légal est "
            "majeur (18 ans ou plus). " + EXPECTED,
        ),
        (
            parent,
            years_ago(18),  # eighteen today or earlier this year: an adult
            prefix + "Cette personne est majeure (18 ans ou plus) : seul un mineur a des "
            "représentants légaux. Laissez la colonne vide pour une personne majeure.",
        ),
    ]


@pytest.mark.parametrize("case", range(7))
def test_each_bad_value_rejects_the_row_in_french_and_keeps_nothing_of_it(tmp_path, case):
    parent, minor, child = make_nir(), make_nir(), make_nir()
    make_beneficiary(nir=parent)
    make_beneficiary(nir=minor, born=years_ago(17))
    value, born, reason = bad_value_cases(parent, minor, child)[case]
    lines = run_import(tmp_path, WITH_COLUMN, row(child, born, value))
    assert lines == ["created=0 updated=0 rejected=1", f"ligne 2 : {reason}"]
    assert not Beneficiary.objects.filter(nir_index=nir_index(child)).exists()
    # A known child: their row is not taken either, and their links stay as they were.
    make_beneficiary(nir=child, born=born)
    RegistryRepresentative.objects.create(child=person(child), representative=person(parent))
    lines = run_import(tmp_path, WITH_COLUMN, row(child, born, value, city="Lyon"))
    assert lines == ["created=0 updated=0 rejected=1", f"ligne 2 : {reason}"]
    assert person(child).address["lines"][-1] == "75015 PARIS"
    assert representatives_of(child) == {parent}
    assert not AuditEvent.objects.filter(action__endswith="link-representative").exists()
    for number in (parent, minor, child):  # the reason never echoes a number
        assert number not in lines[1]


def test_rejected_rows_are_reported_in_the_files_order_with_a_row_taken_again_at_the_end(
    tmp_path,
):
    lost, parent, child, late_child = make_nir(), make_nir(), make_nir(), make_nir()
    lines = run_import(
        tmp_path,
        WITH_COLUMN,
        row(late_child, CHILD_BORN, lost),  # still unknown after the last row
        row(child, CHILD_BORN, parent),
        "bad,row",
        row(parent),
    )
    assert lines[0] == "created=2 updated=0 rejected=2"
    assert [line.split(" : ", 1)[0] for line in lines[1:]] == ["ligne 2", "ligne 4"]
    assert "n'est pas dans le registre" in lines[1]
    assert representatives_of(child) == {parent}


def test_a_child_with_a_record_is_relinked_on_their_records_chain(tmp_path):
    """Once the child's record exists, the links' events land on it, where the child's
    history (and the filter offering these actions) shows them."""
    patient, _client = patient_with_login()
    parent, child = make_nir(), make_nir()
    make_beneficiary(nir=parent)
    make_beneficiary(nir=child, born=CHILD_BORN)
    Beneficiary.objects.filter(nir_index=nir_index(child)).update(patient=patient)
    assert run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, parent))[0] == (
        "created=0 updated=1 rejected=0"
    )
    event = AuditEvent.objects.get(action="link-representative")
    assert (event.patient_id, event.chain.key) == (patient.pk, f"patient:{patient.pk}")


def test_a_refusal_of_the_door_leaves_the_links_and_is_recorded(tmp_path, monkeypatch):
    parent, other, child = make_nir(), make_nir(), make_nir()
    run_import(tmp_path, WITH_COLUMN, row(parent), row(other), row(child, CHILD_BORN, parent))
    monkeypatch.setattr("access_control.policy.OPERATOR_ACTIONS", set())
    lines = run_import(tmp_path, WITH_COLUMN, row(child, CHILD_BORN, other, city="Lyon"))
    assert lines == [
        "created=0 updated=1 rejected=0",
        "ligne 2 : representative_nirs inchangé : l'import n'est pas autorisé à modifier les "
        "représentants légaux. Le reste de la ligne a été pris en compte.",
    ]
    assert representatives_of(child) == {parent}
    assert person(child).address["lines"][-1] == "75015 LYON"
    refused = AuditEvent.objects.filter(outcome="refused").order_by("sequence")
    assert [event.action for event in refused] == [
        "unlink-representative",
        "link-representative",
    ]


def test_the_database_refuses_a_link_twice_and_a_person_representing_themself():
    parent, child = make_beneficiary(), make_beneficiary(born=CHILD_BORN)
    RegistryRepresentative.objects.create(child=child, representative=parent)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegistryRepresentative.objects.create(child=child, representative=parent)
    with pytest.raises(IntegrityError), transaction.atomic():
        RegistryRepresentative.objects.create(child=child, representative=child)


def test_purging_a_representatives_record_removes_their_links_and_keeps_the_child():
    patient, _client = patient_with_login()
    parent = make_beneficiary()
    Beneficiary.objects.filter(pk=parent.pk).update(patient=patient)
    child = make_beneficiary(born=CHILD_BORN)
    RegistryRepresentative.objects.create(child=child, representative=parent)
    close_record(patient, archive_until=timezone.localdate() - timedelta(days=1))
    purge_record(patient.pk)
    assert not RegistryRepresentative.objects.exists()
    assert Beneficiary.objects.filter(pk=child.pk).exists()


def test_staff_see_a_minors_representatives_by_name_each_read_recorded_on_their_chain():
    staff = StaffFactory()
    client = logged_in_client(staff)
    mother = make_beneficiary(first_name="Anne", last_name="Martin")
    father = make_beneficiary(first_name="Paul", last_name="Durand")
    child = make_beneficiary(born=CHILD_BORN, first_name="Inès")
    for parent in (mother, father):
        RegistryRepresentative.objects.create(child=child, representative=parent)
    page = client.get(f"/admin/enrollment/beneficiary/{child.pk}/change/").content.decode()
    assert "Représentants légaux" in page
    assert "Anne Martin" in page and "Paul Durand" in page
    assert f"/admin/enrollment/beneficiary/{mother.pk}/change/" in page
    for parent in (mother, father):
        event = AuditEvent.objects.get(action="view-identity", chain__key=f"registry:{parent.pk}")
        assert (event.actor_id, event.outcome) == (staff.pk, "allowed")
    # A person who represents nobody's child and has no representative: no such section.
    page = client.get(f"/admin/enrollment/beneficiary/{mother.pk}/change/").content.decode()
    assert "Représentants légaux" not in page
