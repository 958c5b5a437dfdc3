"""The letters of coming of age (issue 17, item 5), read back with pypdf: the takeover code's
letter and the notice of the takeover, every value printed literally, one page, no image."""

from __future__ import annotations

import dataclasses
import datetime
import io

from pypdf import PdfReader

from letters.rendering.content import NoticeContent
from letters.rendering.majority import render_majority_letter, render_majority_notice
from letters.rendering.page import page_count
from tests.letters.factories import make_content, make_sender

MARKUP = '<font color="red">X</font>&amp;'
IMG = '<img src="x"/>'
# The shape of the payload of CVE-2023-33733: code in a colour attribute.
CVE_PAYLOAD = "<font color=\"[[[getattr(pow, Word('__globals__'))]]]\">exploit</font>"


def read(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def flat_text(pdf: bytes) -> str:
    """All the text, whitespace collapsed, so that wrapping does not matter."""
    return " ".join(" ".join(page.extract_text() for page in read(pdf).pages).split())


def notice(**changes) -> NoticeContent:
    values = {
        "reference": "L-7K2QD9XW",
        "issued_on": datetime.date(2026, 12, 3),
        "address_lines": ("INES MARTIN", "12 RUE DES LILAS", "75011 PARIS"),
        "opened_on": datetime.date(2026, 12, 2),
        "reactivation": False,
        "portal_address": "dmp.example.fr",
        "sender": make_sender(),
    }
    return NoticeContent(**{**values, **changes})


def test_the_takeover_letter_says_what_to_do_with_the_code_as_text():
    pdf = render_majority_letter(make_content())
    text = flat_text(pdf)
    assert "Objet : code de reprise de votre Dossier Médical Partagé" in text
    assert "Vous avez atteint la majorité" in text and "7K2Q-D9XW-3MNP" in text
    assert "Ce code est valable jusqu'au 27 janvier 2027 inclus." in text
    assert "https://dmp.example.fr/enrollment/activate/" in text
    assert "Déconnectez-vous d'abord de tout compte qui n'est pas le vôtre" in text
    assert "pas même à vos anciens représentants légaux" in text
    assert "l'historique de votre dossier sont conservés" in text
    assert "à votre majorité" in text  # the data-protection notice's purpose
    assert page_count(pdf) == 1
    assert "/XObject" not in read(pdf).pages[0]["/Resources"]  # no QR code, no image at all


def test_a_previous_takeover_code_blocked_is_told():
    pdf = render_majority_letter(make_content(previous_code_blocked_on=datetime.date(2026, 12, 20)))
    told = "Le code de reprise envoyé dans notre précédent courrier a été bloqué le 20 décembre"
    assert told in flat_text(pdf)


def test_markup_in_values_is_printed_literally_in_the_takeover_letter():
    sender = make_sender(
        name=MARKUP,
        address_lines=(IMG, "75000 PARIS"),
        phone=MARKUP,
        phone_hours=CVE_PAYLOAD,
        email=IMG,
        dpo_contact=MARKUP,
        signatory=(CVE_PAYLOAD,),
        retention=MARKUP,
    )
    content = make_content(
        reference=f"L-{IMG}",
        address_lines=(MARKUP, IMG, "75011 PARIS"),
        activate_url="https://dmp.example.fr/<b>x</b>&amp;/enrollment/activate/",
        request_url="https://dmp.example.fr/<img/>/",
        sender=sender,
    )
    text = flat_text(render_majority_letter(content))
    assert f"Appelez le {MARKUP}, {CVE_PAYLOAD}, ou écrivez à {IMG}." in text
    assert f"appelez-nous au {MARKUP}." in text  # the box: someone else used the code
    assert f"Responsable du traitement : {MARKUP}, {IMG}, 75000 PARIS." in text
    assert "https://dmp.example.fr/<b>x</b>&amp;/enrollment/activate/" in text
    assert "https://dmp.example.fr/<img/>/" in text
    assert text.count(CVE_PAYLOAD) == 2  # opening hours, signatory

    notice_text = flat_text(render_majority_notice(notice(sender=sender)))
    assert f"appelez-nous sans attendre au {MARKUP}, {CVE_PAYLOAD}" in notice_text
    assert f"Écrivez à {IMG}." in notice_text


def test_the_notice_tells_of_the_takeover_and_carries_no_code():
    pdf = render_majority_notice(notice())
    text = flat_text(pdf)
    assert "Objet : reprise de votre Dossier Médical Partagé" in text
    assert "repris le 2 décembre 2026" in text
    assert "ne contient aucun code" in text
    assert page_count(pdf) == 1


def test_a_notice_cannot_tell_of_a_later_day():
    try:
        dataclasses.replace(notice(), opened_on=datetime.date(2026, 12, 4))
    except ValueError:
        return
    raise AssertionError("a notice dated before what it tells of was accepted")
