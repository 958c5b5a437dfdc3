"""import_practitioners in batches (issue 18, item 7): each batch a few statements, a failed
batch rolled back alone with its invitations, a re-run completing the import, progress on a
terminal, and a badly encoded line rejected alone. Real files, real PostgreSQL."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from stdnum import luhn

from accounts.models import PractitionerProfile, User, UserKind
from accounts.names import search_key
from accounts.services import practitioners
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db
HEADER = "rpps,last_name,first_name,profession,specialty,email\n"


def rpps_numbers(count: int) -> list[str]:
    return [f"10000001{n:02d}" + luhn.calc_check_digit(f"10000001{n:02d}") for n in range(count)]


def row(rpps: str, last_name: str = "Martin", email: str = "") -> str:
    return f"{rpps},{last_name},Claire,medecin,,{email or f'c{rpps}@example.fr'}\n"


def write(tmp_path, body: bytes | str):
    path = tmp_path / "practitioners.csv"
    data = body if isinstance(body, bytes) else body.encode()
    path.write_bytes(HEADER.encode() + data)
    return path


def run_import(path, capture, queued: list[int]) -> list[str]:
    """The command's report; appends to ``queued`` how many invitations it queued."""
    out = StringIO()
    callbacks: list = []
    try:
        with capture(execute=False) as callbacks:
            call_command("import_practitioners", str(path), stdout=out)
    finally:  # the callbacks are gathered when the capture ends, failed or not
        queued.append(len(callbacks))
    return out.getvalue().strip().splitlines()


@pytest.fixture
def batches_of_3(monkeypatch):
    monkeypatch.setattr(practitioners, "BATCH_ROWS", 3)


@pytest.fixture
def refuse_profile():
    """A trigger that makes PostgreSQL refuse one RPPS number's profile, as a full disk or a
    lost connection would refuse a batch: an error that is not the row's."""

    def refuse(rpps: str) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE FUNCTION refuse_profile() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.rpps = '{rpps}' THEN RAISE EXCEPTION 'storage failed'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse_profile BEFORE INSERT ON accounts_practitionerprofile "
                "FOR EACH ROW EXECUTE FUNCTION refuse_profile()"
            )

    return refuse


def test_a_failure_in_batch_2_keeps_batch_1_and_a_rerun_completes_the_import(
    tmp_path, batches_of_3, refuse_profile, django_capture_on_commit_callbacks
):
    numbers = rpps_numbers(7)
    path = write(tmp_path, "".join(row(rpps) for rpps in numbers))
    refuse_profile(numbers[4])  # the second row of batch 2 (rows 4 to 6)
    queued: list[int] = []
    with pytest.raises(DatabaseError, match="storage failed"):
        run_import(path, django_capture_on_commit_callbacks, queued)
    # Batch 1 committed, with its three invitations queued; nothing of batch 2, not even the
    # accounts of its rows before the failing one; batch 3 never read. No report is printed:
    # the error ends the command (README, Registry imports: run the file again).
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == set(numbers[:3])
    assert set(User.objects.values_list("username", flat=True)) >= set(numbers[:3])
    assert not User.objects.filter(username__in=numbers[3:]).exists()
    assert queued == [3]

    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER refuse_profile ON accounts_practitionerprofile")
    assert run_import(path, django_capture_on_commit_callbacks, queued) == [
        "created=4 updated=3 rejected=0"
    ]
    assert queued == [3, 4]  # an invitation for each new one only
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == set(numbers)


def test_a_batch_is_a_few_statements_whatever_its_size(
    tmp_path, django_capture_on_commit_callbacks
):
    numbers = rpps_numbers(40)
    path = write(tmp_path, "".join(row(rpps) for rpps in numbers))
    queued: list[int] = []
    with CaptureQueriesContext(connection) as created:
        assert run_import(path, django_capture_on_commit_callbacks, queued) == [
            "created=40 updated=0 rejected=0"
        ]
    assert queued == [40]
    path = write(tmp_path, "".join(row(rpps, "Durand", f"n{rpps}@example.fr") for rpps in numbers))
    with CaptureQueriesContext(connection) as updated:
        assert run_import(path, django_capture_on_commit_callbacks, queued) == [
            "created=0 updated=40 rejected=0"
        ]
    assert queued == [40, 0]
    # Row by row it was five statements a row (savepoint, lookup, two writes, release); now a
    # new practitioner costs nothing more than the batch's statements, a changed one two
    # UPDATEs, an unchanged one nothing.
    assert len(created.captured_queries) <= 8
    assert len(updated.captured_queries) <= 8 + 2 * 40
    with CaptureQueriesContext(connection) as unchanged:
        assert run_import(path, django_capture_on_commit_callbacks, queued) == [
            "created=0 updated=40 rejected=0"
        ]
    assert len(unchanged.captured_queries) <= 8
    profile = PractitionerProfile.objects.select_related("user").get(rpps=numbers[7])
    assert (profile.last_name, profile.user.email) == ("Durand", f"n{numbers[7]}@example.fr")
    assert profile.search_key == search_key("Durand", "Claire")  # kept by the bulk writes too
    assert profile.first_name_search_key == search_key("Claire", "Durand")
    created_user = User.objects.get(username=numbers[0])
    assert created_user.kind == UserKind.PRACTITIONER
    assert not created_user.is_active and not created_user.has_usable_password()


def test_a_number_twice_in_a_batch_keeps_the_last_row(
    tmp_path, batches_of_3, django_capture_on_commit_callbacks
):
    first, second = rpps_numbers(2)
    path = write(tmp_path, row(first) + row(second) + row(first, "Durand"))
    queued: list[int] = []
    assert run_import(path, django_capture_on_commit_callbacks, queued) == [
        "created=2 updated=1 rejected=0"
    ]
    assert queued == [2]
    assert PractitionerProfile.objects.get(rpps=first).last_name == "Durand"


def test_a_number_taken_by_another_account_is_rejected_alone_in_its_batch(
    tmp_path, django_capture_on_commit_callbacks
):
    first, taken, last = rpps_numbers(3)
    User.objects.create_user(taken, kind=UserKind.STAFF)  # the login identifier is taken
    path = write(tmp_path, row(first) + row(taken) + row(last))
    queued: list[int] = []
    assert run_import(path, django_capture_on_commit_callbacks, queued) == [
        "created=2 updated=0 rejected=1",
        "ligne 3 : rpps : ce numéro est déjà utilisé par un autre compte.",
    ]
    assert queued == [2]
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == {first, last}


@pytest.mark.parametrize(
    ("stderr", "options", "shown"),
    [(Terminal, [], True), (Terminal, ["--quiet"], False), (StringIO, [], False)],
    ids=["terminal", "terminal --quiet", "not a terminal"],
)
def test_the_command_shows_progress_on_a_terminal_only(tmp_path, stderr, options, shown):
    path = write(tmp_path, "".join(row(rpps) for rpps in rpps_numbers(2)))
    out, err = StringIO(), stderr()
    call_command("import_practitioners", str(path), *options, stdout=out, stderr=err)
    assert out.getvalue() == "created=2 updated=0 rejected=0\n"  # what scripts read, unchanged
    assert err.getvalue().startswith("lignes lues : 3 (100 %), débit : ") is shown
    assert bool(err.getvalue()) is shown


def test_a_line_in_latin1_is_rejected_alone_with_its_number(tmp_path):
    first, latin, last = rpps_numbers(3)
    latin1 = row(latin, "Hélène").encode("latin-1")
    path = write(tmp_path, row(first).encode() + latin1 + row(last).encode())
    out = StringIO()
    call_command("import_practitioners", str(path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "created=2 updated=0 rejected=1"
    assert lines[1].startswith("ligne 3 : cette ligne n'est pas un texte en UTF-8, l'encodage")
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == {first, last}
