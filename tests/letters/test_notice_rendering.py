"""The reactivation letter and the notices of an opening, as printed: what they say, on one
page, with every value printed literally."""

from __future__ import annotations

import dataclasses
import datetime
import io
import re

import pytest
from pypdf import PdfReader

from letters.rendering.content import LetterContent, NoticeContent
from letters.rendering.page import render_creation_letter, render_notice_letter
from tests.letters.factories import make_content, make_sender

CODE_RE = re.compile(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}")


def reactivation_letter(**changes) -> LetterContent:
    return make_content(**{"reactivation": True, **changes})


def notice(**changes) -> NoticeContent:
    values = {
        "reference": "L-7K2QD9XZ",
        "issued_on": datetime.date(2026, 12, 1),
        "address_lines": ("MADAME CLAIRE DUPONT", "12 RUE DES LILAS", "75011 PARIS"),
        "opened_on": datetime.date(2026, 11, 30),
        "reactivation": False,
        "portal_address": "dmp.example.fr",
        "sender": make_sender(),
    }
    return NoticeContent(**{**values, **changes})


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def flat_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in read(pdf).pages).split())


def test_the_reactivation_letter_says_it_is_one_and_what_to_do_if_not_asked_for():
    pdf = render_creation_letter(reactivation_letter())
    text = flat_text(pdf)
    assert "code de réactivation de votre Dossier Médical Partagé" in text  # the subject
    assert "7K2Q-D9XW-3MNP" in text and "27 janvier 2027" in text
    assert "Vous n'avez rien demandé ?" in text
    assert "votre accès actuel continue de fonctionner" in text
    assert "01 99 00 12 34" in text  # whom to tell
    assert "identifiant de connexion, inchangé" in text
    assert "code de création de votre" not in text  # not the creation letter's wording
    assert len(read(pdf).pages) == 1
    assert read(pdf).metadata.title == "Code de réactivation de Dossier Médical Partagé"


def test_the_creation_letter_is_unchanged_by_the_reactivation_wording():
    text = flat_text(render_creation_letter(reactivation_letter(reactivation=False)))
    assert "code de création de votre" in text and "réactivation" not in text


@pytest.mark.parametrize(
    ("reactivation", "subject", "said"),
    [
        (False, "ouverture de votre", "a été ouvert le 30 novembre 2026"),
        (True, "réactivation de votre", "a été réactivé le 30 novembre 2026"),
    ],
)
def test_the_notice_says_what_happened_when_and_whom_to_call(reactivation, subject, said):
    pdf = render_notice_letter(notice(reactivation=reactivation))
    text = flat_text(pdf)
    assert f"Objet : {subject} Dossier Médical Partagé" in text
    assert said in text
    assert "Si ce n'était pas vous, appelez-nous sans attendre au 01 99 00 12 34" in text
    assert "ne contient aucun code" in text and not CODE_RE.search(text)
    assert "Paris, le 1er décembre 2026" in text and "L-7K2QD9XZ" in text
    assert "MADAME CLAIRE DUPONT" in text
    assert len(read(pdf).pages) == 1


def test_markup_in_the_senders_values_is_printed_literally_in_a_notice():
    markup = '<font color="red">X</font>&amp;'
    pdf = render_notice_letter(notice(sender=make_sender(phone=markup, email=markup)))
    assert markup in flat_text(pdf)


def test_a_notice_with_long_values_stays_on_one_page():
    long_sender = make_sender(
        phone_hours="du lundi au vendredi de 8 h à 18 h et le samedi matin " * 4,
        dpo_contact="Délégué à la protection des données, " * 6,
        signatory=("La cheffe du service des inscriptions et des relations avec les usagers",) * 3,
    )
    pdf = render_notice_letter(notice(sender=long_sender, address_lines=("W" * 38,) * 7))
    assert len(read(pdf).pages) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"address_lines": ("ONE LINE",)},
        {"address_lines": ("W" * 39, "75011 PARIS")},
        {"reference": "L-1\nX"},
        {"opened_on": datetime.date(2026, 12, 2)},  # told of before it happened
    ],
)
def test_an_invalid_notice_is_refused(changes):
    with pytest.raises(ValueError):
        notice(**changes)


def test_a_notice_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        notice().reactivation = True


def test_a_reactivation_letter_replacing_a_blocked_code_names_a_reactivation_code():
    text = flat_text(
        render_creation_letter(
            reactivation_letter(previous_code_blocked_on=datetime.date(2026, 11, 20))
        )
    )
    assert "Le code de réactivation envoyé dans notre précédent courrier a été bloqué" in text
    assert "tente de créer votre dossier" not in text
    assert "Vous n'avez rien demandé ?" in text
