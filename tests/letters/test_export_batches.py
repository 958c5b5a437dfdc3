"""export_letters in bounded batches (issue 18, item 7): one folder per batch of at most
``EXPORT_BATCH_LETTERS`` letters, every letter dispatched once, progress on a terminal."""

from __future__ import annotations

import csv
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client

from letters import services
from letters.models import Letter, LetterState
from tests.enrollment.factories import make_beneficiary
from tests.terminal import Terminal

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_rendered(django_capture_on_commit_callbacks):
    """Three people asked for their code; their letters are rendered, waiting for dispatch."""
    for index, postcode in enumerate(("69001", "13001", "75015")):
        person = make_beneficiary(postcode=postcode)
        with django_capture_on_commit_callbacks(execute=True):
            Client(REMOTE_ADDR=f"192.0.2.{index + 1}").post(
                "/enrollment/", {"nir": person.nir, "nir_confirmation": person.nir}
            )
    assert Letter.objects.filter(state=LetterState.RENDERED).count() == 3


def manifest_references(folder: Path) -> list[str]:
    with (folder / "manifest.csv").open(encoding="utf-8") as handle:
        return [row["letter_reference"] for row in csv.DictReader(handle)]


@pytest.mark.parametrize(("stderr", "progress"), [(Terminal, True), (StringIO, False)])
def test_letters_go_in_batches_of_at_most_the_limit_each_once(
    tmp_path, three_rendered, monkeypatch, stderr, progress
):
    monkeypatch.setattr(services, "EXPORT_BATCH_LETTERS", 2)
    out, err = StringIO(), stderr()
    call_command("export_letters", str(tmp_path), stdout=out, stderr=err)
    folders = [Path(line) for line in out.getvalue().splitlines()]
    assert [len(manifest_references(folder)) for folder in folders] == [2, 1]
    references = [ref for folder in folders for ref in manifest_references(folder)]
    assert sorted(references) == sorted(Letter.objects.values_list("reference", flat=True))
    assert set(Letter.objects.values_list("state", flat=True)) == {LetterState.DISPATCHED}
    expected = "lots exportés : 1\nlots exportés : 2\n" if progress else ""
    assert err.getvalue() == expected
