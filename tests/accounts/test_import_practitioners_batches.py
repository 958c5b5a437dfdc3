"""import_practitioners in batches (issue 18, item 7): a failed batch rolled back alone, its
invitations never queued, and a re-run completing the import."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from stdnum import luhn

from accounts.models import PractitionerProfile
from accounts.services import practitioners

pytestmark = pytest.mark.django_db
HEADER = "rpps,last_name,first_name,profession,specialty,email\n"


def rpps_numbers(count: int) -> list[str]:
    return [f"10000001{n:02d}" + luhn.calc_check_digit(f"10000001{n:02d}") for n in range(count)]


def run_import(tmp_path, body: str, capture, queued: list[int]) -> list[str]:
    """The command's report; appends to ``queued`` how many invitations it queued."""
    path = tmp_path / "practitioners.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    out = StringIO()
    callbacks: list = []
    try:
        with capture(execute=False) as callbacks:
            call_command("import_practitioners", str(path), stdout=out)
    finally:  # the callbacks are gathered when the capture ends, failed or not
        queued.append(len(callbacks))
    return out.getvalue().strip().splitlines()


def test_a_failure_in_batch_2_keeps_batch_1_and_a_rerun_completes_the_import(
    tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(practitioners, "BATCH_ROWS", 3)
    numbers = rpps_numbers(7)
    body = "".join(f"{rpps},Martin,Claire,medecin,,c{rpps}@example.fr\n" for rpps in numbers)
    upsert = practitioners._upsert_practitioner
    calls = []
    queued: list[int] = []

    def fails_on_the_fifth(data, *, with_city):
        calls.append(data["rpps"])
        if len(calls) == 5:  # the second row of batch 2 (rows 4 to 6)
            raise RuntimeError("the database went away")
        return upsert(data, with_city=with_city)

    monkeypatch.setattr(practitioners, "_upsert_practitioner", fails_on_the_fifth)
    with pytest.raises(RuntimeError):
        run_import(tmp_path, body, django_capture_on_commit_callbacks, queued)
    # Batch 1 committed, with its three invitations queued; nothing of batch 2.
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == set(numbers[:3])
    assert queued == [3]

    monkeypatch.setattr(practitioners, "_upsert_practitioner", upsert)
    assert run_import(tmp_path, body, django_capture_on_commit_callbacks, queued) == [
        "created=4 updated=3 rejected=0"
    ]
    assert queued == [3, 4]
    assert set(PractitionerProfile.objects.values_list("rpps", flat=True)) == set(numbers)
