"""A child's number typed twice on /enrollment/ (issue 17, item 2): the page's one answer, and
in the background one letter per legal representative of the registry, at the child's address,
addressed to that representative by name, with a code bound to the child and that
representative. A minor without representatives is refused as before; a representative whose
letter was used is not written to again; the resend rules hold per representative."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone

from enrollment.models import (
    CodePurpose,
    CreationCode,
    EnrollmentRequest,
    RegistryRepresentative,
    RequestOutcome,
)
from enrollment.services.registry import CODE_LETTERS, CREATION_LETTER, REPRESENTATIVE_LETTER
from enrollment.services.registry_changes import (
    _redirect_pending_letter as redirect_pending_letter,
)
from enrollment.services.requests import process_request
from letters.models import Letter, LetterState
from letters.services import render, request_letter
from tests.enrollment.factories import make_beneficiary
from tests.enrollment.minors_world import (
    ask_for,
    child_of,
    code_for,
    letters_for,
    parent,
)
from tests.letters.reading import letter_pdf, letter_text

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def _page(response) -> str:
    return CSRF.sub("", response.content.decode())


def test_the_page_answers_a_childs_number_as_any_other(django_capture_on_commit_callbacks):
    mother = parent("Claire")
    child = child_of(mother)
    adult = make_beneficiary()
    for_child = ask_for(child, django_capture_on_commit_callbacks, "192.0.2.11")
    for_adult = ask_for(adult, django_capture_on_commit_callbacks, "192.0.2.12")
    assert for_child.status_code == for_adult.status_code == 200
    assert _page(for_child) == _page(for_adult)


def test_one_letter_per_representative_at_the_childs_address(django_capture_on_commit_callbacks):
    mother, father = parent("Claire"), parent("Marc", "Bernard")
    child = child_of(mother, father)
    ask_for(child, django_capture_on_commit_callbacks)
    assert EnrollmentRequest.objects.get().outcome == RequestOutcome.REPRESENTATIVES
    letters = letters_for(child)
    assert set(letters) == {mother.row.pk, father.row.pk}
    texts = {pk: " ".join(letter_text(letter).split()) for pk, letter in letters.items()}
    to_mother = "À l'attention de Claire Martin, représentant légal de Zoé Martin"
    to_father = "À l'attention de Marc Bernard, représentant légal de Zoé Martin"
    assert to_mother in texts[mother.row.pk] and to_father in texts[father.row.pk]
    for text in texts.values():
        assert "3 RUE DES LILAS" in text.upper()  # the child's Vitale address
    assert {letter.page_count for letter in letters.values()} == {1}
    codes = CreationCode.objects.filter(beneficiary=child)
    assert {code.representative_id for code in codes} == {mother.row.pk, father.row.pk}
    assert {code.purpose for code in codes} == {CodePurpose.REPRESENTATION}
    assert code_for(child, mother) != code_for(child, father)
    # No code of the child's own, and nothing for the parents' own numbers.
    assert not Letter.objects.exclude(subject_uid=child.uid).exists()


def test_a_minor_without_representatives_is_refused_as_before(django_capture_on_commit_callbacks):
    child = child_of()
    ask_for(child, django_capture_on_commit_callbacks)
    assert EnrollmentRequest.objects.get().outcome == RequestOutcome.MINOR
    assert not Letter.objects.exists() and not CreationCode.objects.exists()


def test_asking_again_at_once_sends_nothing_more(django_capture_on_commit_callbacks):
    mother, father = parent("Claire"), parent("Marc")
    child = child_of(mother, father)
    ask_for(child, django_capture_on_commit_callbacks)
    ask_for(child, django_capture_on_commit_callbacks, "192.0.2.13")
    assert Letter.objects.filter(kind__in=CODE_LETTERS).count() == 2
    outcomes = list(EnrollmentRequest.objects.order_by("pk").values_list("outcome", flat=True))
    assert outcomes == [RequestOutcome.REPRESENTATIVES, RequestOutcome.CODE_PENDING]


def test_a_used_letter_is_not_sent_again_the_other_representative_gets_a_new_one(
    django_capture_on_commit_callbacks,
):
    mother, father = parent("Claire"), parent("Marc")
    child = child_of(mother, father)
    ask_for(child, django_capture_on_commit_callbacks)
    mother.client.post(
        "/enrollment/activate/", {"nir": child.nir, "creation_code": code_for(child, mother)}
    )
    later = timezone.now() + timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS + 1)
    with time_machine.travel(later, tick=False):
        ask_for(child, django_capture_on_commit_callbacks, "192.0.2.14")
    sent = Letter.objects.filter(subject_uid=child.uid).order_by("pk")
    assert sent.count() == 3
    newest = letters_for(child)
    assert newest[father.row.pk].pk == sent.last().pk  # the new one is the father's
    assert EnrollmentRequest.objects.order_by("pk").last().outcome == (
        RequestOutcome.REPRESENTATIVES
    )


def test_when_every_representative_represents_no_letter_goes(django_capture_on_commit_callbacks):
    mother = parent("Claire")
    child = child_of(mother)
    ask_for(child, django_capture_on_commit_callbacks)
    mother.client.post(
        "/enrollment/activate/", {"nir": child.nir, "creation_code": code_for(child, mother)}
    )
    later = timezone.now() + timedelta(days=settings.ENROLLMENT_RESEND_DELAY_DAYS + 1)
    with time_machine.travel(later, tick=False):
        ask_for(child, django_capture_on_commit_callbacks, "192.0.2.14")
    assert Letter.objects.filter(kind__in=CODE_LETTERS).count() == 1
    assert EnrollmentRequest.objects.order_by("pk").last().outcome == RequestOutcome.ENROLLED


def test_names_are_printed_as_text_never_as_markup(django_capture_on_commit_callbacks):
    mother = parent("Claire", "<b>Dupont</b> & <font size=40>Fils")
    child = child_of(mother)
    ask_for(child, django_capture_on_commit_callbacks)
    letter = letters_for(child)[mother.row.pk]
    text = " ".join(letter_text(letter).split())
    assert "Claire <b>Dupont</b> & <font size=40>Fils, représentant légal" in text
    pdf = letter_pdf(letter)
    assert b"/Subtype /Image" not in pdf  # the code is text, never a QR code


def test_a_letter_to_a_representative_the_registry_unlinked_is_void(
    django_capture_on_commit_callbacks,
):
    mother = parent("Claire")
    child = child_of(mother)
    with django_capture_on_commit_callbacks(execute=False):
        Client(REMOTE_ADDR="192.0.2.20").post(
            "/enrollment/", {"nir": child.nir, "nir_confirmation": child.nir}
        )
    process_request(EnrollmentRequest.objects.get().pk)
    RegistryRepresentative.objects.all().delete()
    letter = Letter.objects.get(subject_uid=child.uid)
    assert render(letter.pk) is False
    letter.refresh_from_db()
    assert letter.state == LetterState.VOID and not CreationCode.objects.exists()


def test_an_address_change_writes_to_the_representatives_again_never_to_the_child(
    django_capture_on_commit_callbacks,
):
    mother = parent("Claire")
    child = child_of(mother)
    ask_for(child, django_capture_on_commit_callbacks)
    first = CreationCode.objects.get()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        redirect_pending_letter(child)
    first.refresh_from_db()
    assert first.superseded_at is not None
    letters = Letter.objects.filter(subject_uid=child.uid).order_by("pk")
    assert [(letter.kind, letter.state) for letter in letters] == [
        (REPRESENTATIVE_LETTER, LetterState.VOID),
        (REPRESENTATIVE_LETTER, LetterState.RENDERED),
    ]
    assert CreationCode.objects.live().get().representative_id == mother.row.pk


def test_a_code_letter_of_the_childs_own_is_void(django_capture_on_commit_callbacks):
    child = child_of(parent("Claire"))
    with transaction.atomic():
        letter = request_letter(CREATION_LETTER, child.uid, child.data_key)
    assert render(letter.pk) is False
    letter.refresh_from_db()
    assert letter.state == LetterState.VOID and not CreationCode.objects.exists()
