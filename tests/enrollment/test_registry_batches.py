"""import_beneficiaries in batches (issue 18, item 7): new people inserted together, every
other row through its row-by-row path, a failed batch rolled back alone, a re-run completing."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from audit.models import Action, AuditEvent
from dmp_portal.crypto import datakeys
from enrollment.models import Beneficiary
from enrollment.services import registry
from enrollment.services.registry import nir_index
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db
HEADER = (
    "nir,last_name,first_name,birth_date,delivery_point,building,street,locality,"
    "postcode,city,country,regime,opposition\n"
)


def numbers(count: int) -> list[str]:
    return [make_nir(place=f"78{index:03d}") for index in range(1, count + 1)]


def row(number: str, last_name: str = "Martin", opposition: str = "") -> str:
    address = "1 rue de la Paix,,75002,Paris,"
    return f"{number},{last_name},Léa,1985-05-14,,,{address},general,{opposition}\n"


def run_import(tmp_path, body: str) -> list[str]:
    path = tmp_path / "beneficiaries.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    out = StringIO()
    call_command("import_beneficiaries", str(path), stdout=out)
    return out.getvalue().strip().splitlines()


@pytest.fixture
def batches_of_3(monkeypatch):
    monkeypatch.setattr(registry, "BATCH_ROWS", 3)


def test_a_failure_in_batch_2_keeps_batch_1_and_a_rerun_completes_the_import(
    tmp_path, batches_of_3, monkeypatch
):
    people = numbers(7)
    body = "".join(row(number) for number in people)
    built = []

    def fails_on_the_fifth(purpose: str):
        built.append(purpose)
        if len(built) == 5:  # the second new person of batch 2 (rows 4 to 6)
            raise RuntimeError("the database went away")
        return datakeys.build_data_key(purpose)

    monkeypatch.setattr(registry, "build_data_key", fails_on_the_fifth)
    with pytest.raises(RuntimeError):
        run_import(tmp_path, body)
    # Batch 1 (3 rows) committed; nothing of batch 2 (its first key was built, never saved).
    assert set(Beneficiary.objects.values_list("nir_index", flat=True)) == {
        nir_index(number) for number in people[:3]
    }

    monkeypatch.setattr(registry, "build_data_key", datakeys.build_data_key)
    assert run_import(tmp_path, body) == ["created=4 updated=3 rejected=0"]
    assert Beneficiary.objects.count() == 7
    assert {person.nir for person in Beneficiary.objects.all()} == set(people)


def test_new_people_of_a_batch_are_inserted_together_and_read_back(tmp_path, batches_of_3):
    people = numbers(3)
    with CaptureQueriesContext(connection) as queries:
        lines = run_import(tmp_path, "".join(row(number) for number in people))
    assert lines == ["created=3 updated=0 rejected=0"]
    # One lookup, two inserts (keys, people), savepoint and commit: not a query per row.
    inserts = [query for query in queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == 2
    person = Beneficiary.objects.get(nir_index=nir_index(people[1]))
    assert (person.nir, person.last_name, person.birth_date) == (
        people[1],
        "Martin",
        "1985-05-14",
    )
    assert person.address["lines"] == ["Léa MARTIN", "1 RUE DE LA PAIX", "75002 PARIS"]
    assert len({person.data_key_id for person in Beneficiary.objects.all()}) == 3


def test_a_person_twice_in_a_batch_and_one_known_take_the_last_values(tmp_path, batches_of_3):
    known = make_beneficiary(nir=make_nir(born=date(1985, 5, 14), place="78900"))
    twice = make_nir(place="78901")
    body = row(twice, "Premier") + row(known.nir, "Connu") + row(twice, "Second")
    assert run_import(tmp_path, body) == ["created=1 updated=2 rejected=0"]
    assert Beneficiary.objects.get(nir_index=nir_index(twice)).last_name == "Second"
    assert Beneficiary.objects.get(pk=known.pk).last_name == "Connu"


def test_an_opposition_on_a_new_person_still_passes_the_door_in_a_batch(tmp_path, batches_of_3):
    opposed, plain = numbers(2)
    body = row(plain) + row(opposed, opposition="oui")
    assert run_import(tmp_path, body) == ["created=2 updated=0 rejected=0"]
    assert Beneficiary.objects.get(nir_index=nir_index(opposed)).opposed_at is not None
    assert Beneficiary.objects.get(nir_index=nir_index(plain)).opposed_at is None
    # The door's decision, recorded as before the batches: one, for the opposed person only.
    assert AuditEvent.objects.filter(action=Action.SET_OPPOSITION).count() == 1


def test_known_people_of_a_batch_are_one_update_each_and_their_proposals_closed_together(
    tmp_path, batches_of_3
):
    people = numbers(3)
    run_import(tmp_path, "".join(row(number) for number in people))
    with CaptureQueriesContext(connection) as queries:
        lines = run_import(tmp_path, "".join(row(number, "Nouveau") for number in people))
    assert lines == ["created=0 updated=3 rejected=0"]
    sql = [query["sql"] for query in queries]
    # One locked lookup, an update per person, one for their open proposals, and no savepoint
    # per row (the one savepoint is the batch's transaction, inside the test's).
    assert sum(query.startswith("SELECT") and "FOR UPDATE" in query for query in sql) == 1
    assert sum(query.startswith('UPDATE "enrollment_beneficiary"') for query in sql) == 3
    assert sum(query.startswith("SAVEPOINT") for query in sql) == 1
    assert {person.last_name for person in Beneficiary.objects.all()} == {"Nouveau"}


def test_lifting_an_opposition_in_a_batch_still_passes_the_door(tmp_path, batches_of_3):
    opposed, plain = numbers(2)
    run_import(tmp_path, row(opposed, opposition="oui") + row(plain))
    assert run_import(tmp_path, row(opposed, opposition="non") + row(plain, opposition="non")) == [
        "created=0 updated=2 rejected=0"
    ]
    assert Beneficiary.objects.get(nir_index=nir_index(opposed)).opposed_at is None
    assert AuditEvent.objects.filter(action=Action.LIFT_OPPOSITION).count() == 1


@pytest.mark.parametrize(
    ("stderr", "options", "shown"),
    [(Terminal, [], True), (Terminal, ["--quiet"], False), (StringIO, [], False)],
    ids=["terminal", "terminal --quiet", "not a terminal"],
)
def test_the_command_shows_progress_on_a_terminal_only(tmp_path, stderr, options, shown):
    path = tmp_path / "beneficiaries.csv"
    path.write_text(HEADER + "".join(row(number) for number in numbers(2)), encoding="utf-8")
    out, err = StringIO(), stderr()
    call_command("import_beneficiaries", str(path), *options, stdout=out, stderr=err)
    assert out.getvalue() == "created=2 updated=0 rejected=0\n"  # what scripts read, unchanged
    assert err.getvalue().startswith("lignes lues : 3 (100 %), débit : ") is shown
    assert bool(err.getvalue()) is shown


def test_a_line_in_latin1_is_rejected_alone_with_its_number(tmp_path):
    first, latin, last = numbers(3)
    path = tmp_path / "beneficiaries.csv"
    path.write_bytes(
        (HEADER + row(first)).encode() + row(latin, "Hélène").encode("latin-1") + row(last).encode()
    )
    out = StringIO()
    call_command("import_beneficiaries", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "created=2 updated=0 rejected=1"
    assert lines[1].startswith("ligne 3 : cette ligne n'est pas un texte en UTF-8, l'encodage")
    assert not Beneficiary.objects.filter(nir_index=nir_index(latin)).exists()
