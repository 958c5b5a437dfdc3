"""Rendering a letter without a savepoint around its builder (issue 20, item 8): two round trips
fewer for every letter written, and a void letter still marked void with nothing its builder
wrote kept."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from dmp_portal.crypto.datakeys import create_data_key
from letters.models import Letter, LetterBatch, LetterState
from letters.services import LetterVoid, RenderedLetter, render

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4 the letter itself"
void_calls: list[int] = []


def build_letter(letter: Letter) -> RenderedLetter:
    return RenderedLetter(
        pdf=PDF, page_count=1, postal={"postcode": "75001", "city": "Paris", "country": ""}
    )


def build_void_after_a_write(letter: Letter) -> RenderedLetter:
    """Writes (as a builder issuing a code would), then finds the letter void."""
    void_calls.append(letter.pk)
    LetterBatch.objects.create(letter_count=99)
    raise LetterVoid("the recipient's data was destroyed")


def _letter(kind: str) -> Letter:
    return Letter.objects.create(
        kind=kind, subject_uid=uuid.uuid4(), data_key=create_data_key("patient")
    )


def test_a_letter_is_rendered_without_a_savepoint_around_its_builder():
    letter = _letter("round_trips_test")
    builders = {**settings.LETTER_BUILDERS, "round_trips_test": f"{__name__}.build_letter"}
    with override_settings(LETTER_BUILDERS=builders), CaptureQueriesContext(connection) as ctx:
        assert render(letter.pk) is True
    statements = [query["sql"] for query in ctx.captured_queries]
    # The test's own transaction makes the task's atomic block a savepoint: its SAVEPOINT and
    # RELEASE, the letter locked, and the letter saved. No second savepoint (it was 6).
    assert len(statements) == 4, statements
    assert sum(sql.startswith("SAVEPOINT") for sql in statements) == 1
    letter.refresh_from_db()
    assert letter.state == LetterState.RENDERED


def test_a_void_letter_is_marked_void_and_its_builders_writes_are_undone():
    void_calls.clear()
    letter = _letter("void_test")
    builders = {**settings.LETTER_BUILDERS, "void_test": f"{__name__}.build_void_after_a_write"}
    with override_settings(LETTER_BUILDERS=builders):
        assert render(letter.pk) is False
    letter.refresh_from_db()
    assert letter.state == LetterState.VOID
    assert not LetterBatch.objects.filter(letter_count=99).exists()
    assert void_calls == [letter.pk, letter.pk]  # decided afresh, the former way
    with override_settings(LETTER_BUILDERS=builders):
        assert render(letter.pk) is False  # idempotent: a void letter is left alone
    assert void_calls == [letter.pk, letter.pk]
