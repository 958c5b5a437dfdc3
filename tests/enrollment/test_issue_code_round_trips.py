"""Issuing a code in one round trip (issue 20, item 8): the previous code read, the older codes
superseded, the new code inserted and the wrong tries forgotten in one statement, with the same
effects as the four statements before."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from enrollment.codes import hash_code
from enrollment.models import ActivationAttempts, CodePurpose, CreationCode
from enrollment.services.codes import issue_code
from letters.models import Letter, LetterState
from letters.services import render
from tests.enrollment.factories import make_beneficiary, make_nir

pytestmark = pytest.mark.django_db


def _code(person, representative=None, **fields) -> CreationCode:
    now = timezone.now()
    values = {"created_at": now - timedelta(days=1), "expires_at": now + timedelta(days=30)}
    values.update(fields)
    return CreationCode.objects.create(
        beneficiary=person,
        representative=representative,
        code_hash=hash_code(make_nir()),
        **values,
    )


def test_a_code_is_issued_in_one_statement():
    person = make_beneficiary()
    with transaction.atomic(), CaptureQueriesContext(connection) as ctx:
        issue_code(person)
    statements = [query["sql"] for query in ctx.captured_queries]
    # It was four: the previous code read, the supersede, the insert and the tries' delete.
    assert len(statements) == 1, statements


def test_issuing_supersedes_older_codes_stores_the_hash_only_and_forgets_wrong_tries():
    person, other = make_beneficiary(), make_beneficiary()
    representative = make_beneficiary()
    older = _code(person)
    represented = _code(person, representative)
    others = _code(other)
    now = timezone.now()
    ActivationAttempts.objects.create(nir_index=person.nir_index, failures=3, last_failed_at=now)
    ActivationAttempts.objects.create(nir_index=other.nir_index, failures=2, last_failed_at=now)
    with transaction.atomic():
        issued = issue_code(person)
    new = CreationCode.objects.get(code_hash=hash_code(issued.code))
    assert new.beneficiary == person and new.representative is None
    assert new.purpose == CodePurpose.CREATION and new.is_usable()
    assert issued.code not in str(CreationCode.objects.filter(pk=new.pk).values().get())
    # A person's own letter supersedes every live code of theirs, a representative's too.
    older.refresh_from_db()
    represented.refresh_from_db()
    others.refresh_from_db()
    assert older.superseded_at == new.created_at
    assert represented.superseded_at == new.created_at
    assert others.superseded_at is None
    assert not ActivationAttempts.objects.filter(nir_index=person.nir_index).exists()
    assert ActivationAttempts.objects.filter(nir_index=other.nir_index).exists()


def test_a_representatives_code_supersedes_only_that_representatives_older_ones():
    child, mother, father = make_beneficiary(), make_beneficiary(), make_beneficiary()
    mothers, fathers = _code(child, mother), _code(child, father)
    with transaction.atomic():
        issued = issue_code(child, CodePurpose.REPRESENTATION, representative=mother)
    new = CreationCode.objects.get(code_hash=hash_code(issued.code))
    assert new.representative == mother and new.purpose == CodePurpose.REPRESENTATION
    mothers.refresh_from_db()
    fathers.refresh_from_db()
    assert mothers.superseded_at == new.created_at
    assert fathers.superseded_at is None


@pytest.mark.parametrize(
    ("fields", "blocked", "tried"),
    [
        ({"burned_at": "then"}, True, False),
        ({"failed_attempts": 9, "last_failed_at": "then"}, False, True),
        ({"failed_attempts": 9, "last_failed_at": "then", "used_at": "then"}, False, False),
        ({"failed_attempts": 9, "last_failed_at": "then", "superseded_at": "then"}, False, False),
        ({}, False, False),
    ],
)
def test_the_letter_tells_what_happened_to_the_latest_code_as_it_was_before(fields, blocked, tried):
    person = make_beneficiary()
    then = timezone.now() - timedelta(days=3)
    _code(person, created_at=then - timedelta(days=5), burned_at=then)  # an earlier one: ignored
    _code(person, **{key: then if value == "then" else value for key, value in fields.items()})
    with transaction.atomic():
        issued = issue_code(person)
    assert issued.previous_blocked_on == (timezone.localdate(then) if blocked else None)
    assert issued.previous_tried_on == (timezone.localdate(then) if tried else None)


def test_a_code_letter_is_written_in_six_statements():
    person = make_beneficiary()
    letter = Letter.objects.create(
        kind="creation_code", subject_uid=person.uid, data_key=person.data_key
    )
    with CaptureQueriesContext(connection) as ctx:
        assert render(letter.pk) is True
    statements = [query["sql"] for query in ctx.captured_queries]
    # SAVEPOINT (the test's transaction), the letter locked, the registry entry locked, the code
    # issued, the letter saved, RELEASE. It was nine.
    assert len(statements) == 6, statements
    letter.refresh_from_db()
    assert letter.state == LetterState.RENDERED
    assert CreationCode.objects.filter(beneficiary=person).live().count() == 1
