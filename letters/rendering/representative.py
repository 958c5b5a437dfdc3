"""The letter carrying a minor's code to one of their legal representatives (issue 17), at the
child's Vitale address, addressed to that representative by name. The same page, code box and
escaping as the creation letter (``page``, ``body``): every value goes through ``_esc``, the
code is drawn as plain text (never markup, never a QR code)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from reportlab.platypus import Flowable, Spacer

from letters.rendering.body import (
    _CodeBox,
    _esc,
    _para,
    _previous_code_notice,
    code_letter_close,
)
from letters.rendering.content import LetterContent, _printable, french_date
from letters.rendering.page import _RENDER_LOCK, _Page, render_fitted

SUBJECT = ("Objet : code de création du", "DMP de votre enfant mineur")
PURPOSE = (
    "adresser au représentant légal d'un enfant mineur, à la demande faite pour l'enfant, le "
    "code de création de son Dossier Médical Partagé"
)
_MAX_NAME = 120


@dataclass(frozen=True)
class RepresentativeLetterContent:
    """A creation letter's values (``base``: the child's address, the code...), with the names
    of the representative it is addressed to and of the child, and the child's birth date."""

    base: LetterContent
    representative_name: str
    child_name: str
    child_born_on: datetime.date

    def __post_init__(self) -> None:
        _printable(self.representative_name, self.child_name)
        if not (0 < len(self.representative_name) <= _MAX_NAME) or not (
            0 < len(self.child_name) <= _MAX_NAME
        ):
            raise ValueError("a name has 1 to 120 characters")


def render_representative_letter(content: RepresentativeLetterContent) -> bytes:
    letter = content.base
    page = _Page(
        "Code de création de Dossier Médical Partagé d'un enfant mineur",
        SUBJECT,
        letter.sender,
        letter.issued_on,
        letter.reference,
        letter.portal_address,
        letter.address_lines,
    )
    with _RENDER_LOCK:
        return render_fitted(page, lambda: representative_body(content))


def representative_body(content: RepresentativeLetterContent) -> list[Flowable]:
    letter = content.base
    sender = letter.sender
    representative, child = _esc(content.representative_name), _esc(content.child_name)
    activate, request = _esc(letter.activate_url), _esc(letter.request_url)
    steps = (
        "Connectez-vous à votre propre Dossier Médical Partagé. Vous n'en avez pas encore ? "
        f"Demandez d'abord le vôtre sur <b>{request}</b> avec votre propre numéro.",
        f"Une fois connecté, rendez-vous sur <b>{activate}</b>",
        f"Saisissez le numéro de sécurité sociale de {child} et ce code.",
        f"Le dossier de {child} est alors relié à votre compte : vous le gérez depuis votre "
        "espace. L'enfant n'a pas d'identifiant de connexion ; à ses 18 ans, il recevra "
        "un courrier pour reprendre lui-même son dossier.",
    )
    return [
        _para(f"<b>À l'attention de {representative}, représentant légal de {child}</b>", "body"),
        _para("Madame, Monsieur,", "body"),
        *_previous_code_notice(letter),
        _para(
            f"La création du Dossier Médical Partagé (« DMP ») de {child}, né(e) le "
            f"{french_date(content.child_born_on)}, a été demandée sur notre site. En tant que "
            "représentant légal, vous pouvez ouvrir ce dossier et le gérer jusqu'à sa majorité. "
            "Voici votre code personnel, à usage unique : il ne fonctionne que pour vous, "
            "connecté à votre propre compte.",
            "body",
        ),
        _CodeBox(letter.creation_code),
        Spacer(0, 6),
        _para(
            f"Ce code est valable jusqu'au <b>{french_date(letter.expires_on)}</b> inclus.", "body"
        ),
        _para("Pour ouvrir le dossier de l'enfant", "heading"),
        *(_para(text, "step", f"{n}.") for n, text in enumerate(steps, 1)),
        _para(
            "Si l'enfant a un autre représentant légal connu de l'Assurance Maladie, il reçoit "
            "son propre courrier et son propre code.",
            "body",
        ),
        _para("Code perdu, expiré ou jamais reçu ?", "heading"),
        _para(
            f"Faites une nouvelle demande sur <b>{request}</b> avec le numéro de sécurité "
            "sociale de l'enfant : un nouveau code vous sera envoyé par courrier. Il remplace "
            "celui-ci, qui ne fonctionnera plus.",
            "body",
        ),
        *code_letter_close(sender, PURPOSE),
    ]
