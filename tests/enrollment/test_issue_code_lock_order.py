"""A new code and a wrong code typed for the same number at the same moment (issue 20, item 8):
``issue_code``'s one statement must lock the live codes before the number's wrong tries, in
the order of a wrong try (``check_code``: the live codes, then the tries' row), or the two
deadlock and PostgreSQL aborts one of them (a letter task retried, or a 500 and an uncounted
try)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import DatabaseError, connections, transaction
from django.utils import timezone

from enrollment.models import ActivationAttempts, CreationCode
from enrollment.services.activation import _record_failure
from enrollment.services.codes import issue_code
from tests.enrollment.factories import make_beneficiary


@pytest.mark.django_db(transaction=True)
def test_a_wrong_try_and_a_new_code_for_the_same_number_both_go_through():
    person = make_beneficiary()
    issue_code(person)
    ActivationAttempts.objects.create(
        nir_index=person.nir_index, failures=1, last_failed_at=timezone.now()
    )
    codes_locked, errors = threading.Event(), []

    def letter() -> None:  # the letter task issuing the number's new code
        try:
            codes_locked.wait(10)
            with transaction.atomic():
                issue_code(person)
        except DatabaseError as exc:
            errors.append(("letter", str(exc).splitlines()[0]))
        finally:
            connections.close_all()

    thread = threading.Thread(target=letter)
    thread.start()
    try:
        with transaction.atomic():  # a wrong code typed: check_code's locks, in its order
            list(CreationCode.objects.select_for_update().filter(beneficiary=person).live())
            codes_locked.set()
            time.sleep(1.5)  # the letter's statement is now waiting on the codes
            _record_failure(person.nir_index, timezone.now())
    except DatabaseError as exc:
        errors.append(("wrong try", str(exc).splitlines()[0]))
    thread.join(30)

    assert errors == []
    # Both went through: the letter's new code is the one live code, and its statement, run
    # after the wrong try, forgot the number's tries.
    assert CreationCode.objects.filter(beneficiary=person).live().count() == 1
    assert CreationCode.objects.filter(beneficiary=person).count() == 2
    assert not ActivationAttempts.objects.filter(nir_index=person.nir_index).exists()
