"""The shared CSV reader and report of the import commands (``dmp_portal.csv_import``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from io import StringIO

import pytest
from django.core.management import CommandError
from django.core.management.base import OutputWrapper

from accounts.models import PractitionerProfile
from accounts.services import import_practitioners
from accounts.validators import PRACTITIONER_COLUMNS
from dmp_portal.csv_import import (
    ImportReport,
    Progress,
    import_csv,
    report_lines,
    write_report,
)
from tests.terminal import Terminal

COLUMNS = ("code", "name")


@dataclass
class Recorded(ImportReport):
    """A service's report that keeps what it was given: the rows as the reader hands them on."""

    rows: list = field(default_factory=list)

    def summary(self) -> str:
        return f"rows={len(self.rows)}"


def record(rows) -> Recorded:
    report = Recorded()
    for number, row in rows:
        report.rows.append((number, dict(row)))
    return report


def write(tmp_path, data: bytes):
    path = tmp_path / "import.csv"
    path.write_bytes(data)
    return str(path)


def test_rows_carry_their_line_in_the_file_the_header_being_line_1(tmp_path):
    path = write(
        tmp_path,
        b'code,name\nA1,Alpha\nB2,"Beta\non two lines"\nC3,Gamma\n',
    )
    report = import_csv(path, COLUMNS, record)
    assert [number for number, _row in report.rows] == [2, 4, 5]
    assert report.rows[1][1] == {"code": "B2", "name": "Beta\non two lines"}


def test_a_byte_order_mark_and_extra_columns_are_accepted(tmp_path):
    path = write(tmp_path, "\ufeffname,extra,code\nAlpha,x,A1\n".encode())
    report = import_csv(path, COLUMNS, record)
    assert report.rows == [(2, {"name": "Alpha", "extra": "x", "code": "A1"})]


def test_a_missing_column_is_named_with_the_expected_header_and_no_row_is_read(tmp_path):
    calls = []
    path = write(tmp_path, b"code,nom\nA1,Alpha\n")
    with pytest.raises(CommandError) as raised:
        import_csv(path, COLUMNS, calls.append)
    assert str(raised.value) == "Colonnes manquantes : name. En-tête attendu : code,name"
    assert calls == []


def test_an_empty_file_misses_every_column(tmp_path):
    path = write(tmp_path, b"")
    with pytest.raises(CommandError) as raised:
        import_csv(path, COLUMNS, record)
    assert str(raised.value) == "Colonnes manquantes : code, name. En-tête attendu : code,name"


def test_a_file_whose_header_is_not_utf8_is_refused_in_french(tmp_path):
    path = write(tmp_path, "code,nâme\nA1,Alpha\n".encode("latin-1"))
    with pytest.raises(CommandError) as raised:
        import_csv(path, COLUMNS, record)
    assert str(raised.value) == "Le fichier n'est pas un texte encodé en UTF-8."


def test_a_line_that_is_not_utf8_is_rejected_with_its_number_and_the_rest_is_read(tmp_path):
    path = write(
        tmp_path,
        b"\xef\xbb\xbfcode,name\nA1,Alpha\n"
        + "B2,Hélène\n".encode("latin-1")
        + b'C3,"Gamma\non two lines"\nD4,Delta\n',
    )
    report = import_csv(path, COLUMNS, record)
    # The other rows keep their numbers in the file, and reach the service.
    assert [number for number, _row in report.rows] == [2, 5, 6]
    assert report.rejected == [(3, NOT_UTF8)]
    assert report_lines(report)[1] == f"ligne 3 : {NOT_UTF8}"


NOT_UTF8 = (
    "cette ligne n'est pas un texte en UTF-8, l'encodage attendu : enregistrez le fichier en "
    "UTF-8 (dans un tableur, « CSV UTF-8 ») puis importez-le de nouveau. Rien de la ligne n'a "
    "été pris."
)


def test_progress_lines_say_how_far_the_file_is_read(tmp_path):
    path = write(tmp_path, b"code,name\n" + b"".join(b"A%d,Alpha\n" % n for n in range(9)))
    out = StringIO()
    report = import_csv(path, COLUMNS, record, Progress(OutputWrapper(out), every=0))
    assert len(report.rows) == 9
    lines = out.getvalue().splitlines()
    # One line per line of the file (every=0), then the last one at 100 %.
    assert len(lines) == 11
    assert lines[0].startswith("lignes lues : 1 (10 %), débit : ")
    assert lines[-1].startswith("lignes lues : 10 (100 %), débit : ")
    assert lines[-1].endswith(" lignes/s")


@pytest.mark.parametrize(
    ("stream", "quiet", "shown"),
    [(Terminal, False, True), (Terminal, True, False), (StringIO, False, False)],
    ids=["terminal", "terminal --quiet", "not a terminal"],
)
def test_progress_only_on_a_terminal_and_never_with_quiet(stream, quiet, shown):
    assert (Progress.for_command(OutputWrapper(stream()), quiet) is not None) is shown


def test_a_missing_file_is_named(tmp_path):
    path = str(tmp_path / "absent.csv")
    with pytest.raises(CommandError) as raised:
        import_csv(path, COLUMNS, record)
    assert str(raised.value) == f"Fichier introuvable : {path}"


def test_a_folder_cannot_be_read(tmp_path):
    with pytest.raises(CommandError) as raised:
        import_csv(str(tmp_path), COLUMNS, record)
    assert str(raised.value).startswith(f"Impossible de lire {tmp_path} : ")


def test_the_summary_comes_first_then_one_french_line_per_rejected_row():
    report = Recorded(rows=[(2, {})], rejected=[(3, "code: vide"), (7, "name: trop long")])
    out = StringIO()
    write_report(OutputWrapper(out), report)
    assert out.getvalue() == "rows=1\nligne 3 : code: vide\nligne 7 : name: trop long\n"
    assert report_lines(Recorded()) == ["rows=0"]


@pytest.mark.django_db
def test_a_bad_row_between_good_ones_stops_nothing(tmp_path):
    path = write(
        tmp_path,
        (
            ",".join(PRACTITIONER_COLUMNS) + "\n"
            "10000000009,Martin,Claire,medecin,,claire.martin@example.fr\n"
            "10000000017,Durand,Paul,astronaute,,paul@example.fr\n"
            "10000000033,Bernard,Luc,infirmier,,luc.bernard@example.fr\n"
        ).encode(),
    )
    report = import_csv(path, PRACTITIONER_COLUMNS, import_practitioners)
    lines = report_lines(report)
    assert lines[0] == "created=2 updated=0 rejected=1"
    assert lines[1].startswith("ligne 3 : profession: Profession inconnue « astronaute »")
    assert len(lines) == 2
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == {
        "10000000009",
        "10000000033",
    }
