"""The body of the letter: its wording, laid out with reportlab paragraphs.

Reportlab's ``Paragraph`` parses markup, and has run code hidden in it (CVE-2023-33733): every
value that goes into a paragraph is escaped by ``_esc`` (the fixed wording holds the only
markup, ``<b>``).
"""

from __future__ import annotations

import functools
import re
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Paragraph, Spacer

from letters.rendering.content import LetterContent, NoticeContent, Sender, french_date
from letters.rendering.fonts import BOLD, MONO_BOLD, REGULAR

CODE_FONT, CODE_SIZE = MONO_BOLD, 24.0  # fixed width, each symbol apart, a dotted 0 (not O)
GREY = Color(0.93, 0.93, 0.93)
_BEFORE_PUNCTUATION_RE = re.compile(r" (?=[:;?!»])")


def _esc(value: str) -> str:
    return escape(value)  # &, <, > : enough outside attributes, where values never go


def _styles() -> dict[str, ParagraphStyle]:
    # 11 pt on 14 for everything a person must read and act on; DejaVu's tall lower case reads
    # larger than Helvetica at the same size.
    base = ParagraphStyle(
        "body",
        fontName=REGULAR,
        bulletFontName=REGULAR,  # else Helvetica 10 pt, which would not be embedded
        bulletFontSize=11,
        fontSize=11,
        leading=14,
        spaceAfter=4,
        alignment=TA_LEFT,
    )
    return {
        "body": base,
        "heading": ParagraphStyle(
            "heading", base, fontName=BOLD, fontSize=11.5, spaceBefore=4, spaceAfter=3
        ),
        "step": ParagraphStyle("step", base, leftIndent=16, bulletIndent=2, spaceAfter=2),
        "warning": ParagraphStyle(
            "warning",
            base,
            fontName=BOLD,
            backColor=GREY,
            borderPadding=5,
            spaceBefore=9,
            spaceAfter=11,
        ),
        "alert": ParagraphStyle(
            "alert", base, backColor=GREY, borderPadding=5, spaceBefore=7, spaceAfter=11
        ),
        "signature": ParagraphStyle("signature", base, alignment=TA_RIGHT, spaceAfter=0),
        # Small print, still dark enough to read: black at 80 %, never a pale grey.
        "small": ParagraphStyle(
            "small", base, fontSize=7.5, leading=9, spaceAfter=0, textColor=Color(*[0.2] * 3)
        ),
    }


_STYLES = _styles()  # built once: paragraphs only read them


class _KeptParagraph(Paragraph):
    """A paragraph that keeps its line breaks for each width it was laid out at.

    Line breaking is most of the cost of a letter, and nearly every paragraph is the same in
    every letter of a run (the same URLs, operator and expiry date), so ``_para`` keeps them.
    """

    def __init__(self, text: str, style: ParagraphStyle, bullet: str | None) -> None:
        super().__init__(text, style, bulletText=bullet)
        self._layouts: dict[float, tuple[Any, Any, tuple[float, float]]] = {}

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        kept = self._layouts.get(avail_width)
        if kept is not None:
            self.blPara, self._wrapWidths, (self.width, self.height) = kept
            return self.width, self.height
        size: tuple[float, float] = super().wrap(avail_width, avail_height)
        if len(self._layouts) < 8:  # the page's width, and a few scales when shrunk to fit
            self._layouts[avail_width] = (self.blPara, self._wrapWidths, size)
        return size


@functools.lru_cache(maxsize=256)
def _para(text: str, style: str, bullet: str | None = None) -> Paragraph:
    """The paragraph of ``text`` (markup: every value in it escaped by the caller), with French
    typography's no-break spaces, so that no line starts with ":" or "»"."""
    text = _BEFORE_PUNCTUATION_RE.sub("\u00a0", text).replace("« ", "«\u00a0")
    return _KeptParagraph(text, _STYLES[style], bullet)


class _CodeBox(Flowable):
    """The code on a grey band, drawn as plain text: never markup, never a QR code.

    With ``defer`` set, placing it only records where (``placed_at``), and the page draws it
    after the rest of the body (``page._render_page``): the body's drawing then holds nothing
    of the code, and is kept for the next letters with the same words.
    """

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code
        self.defer = False
        # Where it was placed: the page's transformation then (the scaling of a body shrunk to
        # fit), x, y, the spare width, its width.
        self.placed_at: tuple[tuple[float, ...], float, float, float, float] | None = None

    def drawOn(self, canvas: Any, x: float, y: float, _sW: float = 0) -> None:  # noqa: N803
        if self.defer:
            self.placed_at = (canvas._currentMatrix, x, y, _sW, self.width)
            return
        super().drawOn(canvas, x, y, _sW)

    def wrap(self, avail_width: float, avail_height: float) -> tuple[float, float]:
        self.width = avail_width
        return avail_width, 38.0

    def draw(self) -> None:
        self.canv.setFillColor(GREY)
        self.canv.roundRect(0, 0, self.width, 38.0, 4, stroke=0, fill=1)
        self.canv.setFillColor(black)
        self.canv.setFont(CODE_FONT, CODE_SIZE)
        self.canv.drawCentredString(self.width / 2, 12.0, self.code)


IF_NOT_YOU = (
    "Si ce n'était pas vous, une autre personne connaît peut-être votre numéro de sécurité "
    "sociale et tente de créer votre dossier à votre place : ne communiquez ce nouveau code à "
    "personne, activez votre dossier dès que possible et signalez-le-nous au numéro indiqué "
    "en bas de ce courrier."
)


def _previous_code_notice(content: LetterContent) -> list[Flowable]:
    """What wrong tries did to the previous code, so that its holder learns of an attempt."""
    previous = "Le code de réactivation" if content.reactivation else "Le code de création"
    if content.previous_code_blocked_on is not None:
        what = (
            f"{previous} envoyé dans notre précédent courrier a été bloqué le "
            f"{french_date(content.previous_code_blocked_on)} après plusieurs saisies erronées."
        )
    elif content.previous_code_tried_on is not None:
        what = (
            f"{previous} envoyé dans notre précédent courrier a fait l'objet de "
            "plusieurs saisies erronées, la dernière le "
            f"{french_date(content.previous_code_tried_on)}."
        )
    else:
        return []
    # A reactivation letter says what to do if it was not the person in its own box below.
    if_not_you = "" if content.reactivation else f" {IF_NOT_YOU}"
    return [
        _para(
            f"<b>{what} Il ne fonctionne plus : utilisez le code ci-dessous.</b>{if_not_you}",
            "alert",
        )
    ]


CREATION_PURPOSE = (
    "vous adresser, à votre demande, le code de création de votre Dossier Médical Partagé"
)
REACTIVATION_PURPOSE = (
    "vous adresser, à votre demande, le code de réactivation de votre Dossier Médical Partagé"
)


def data_protection_notice(sender: Sender, purpose: str) -> Paragraph:
    """The data-protection notice (GDPR articles 13 and 14), for a letter sent to ``purpose``
    (fixed wording, no markup): every value escaped."""
    controller = _esc(", ".join((sender.name, *sender.address_lines)))
    return _para(
        "<b>Protection de vos données personnelles.</b> "
        f"<b>Responsable du traitement :</b> {controller}. "
        f"<b>Finalité :</b> {purpose}. "
        "<b>Base légale :</b> mission d'intérêt public (article 6.1.e du RGPD ; "
        "articles L. 1111-14 et suivants du code de la santé publique). <b>Données :</b> vos nom, "
        "prénoms et adresse, issus des données de référence de votre carte Vitale ; aucune "
        "donnée de santé. <b>Destinataires :</b> les agents habilités du service des "
        "inscriptions et le prestataire qui imprime et poste ce courrier. "
        f"<b>Conservation :</b> {_esc(sender.retention)}. <b>Vos droits :</b> accès, "
        "rectification, limitation et opposition (articles 15 à 21 du RGPD). Pour les exercer "
        "ou pour toute question, contactez le délégué à la protection des données (DPO) : "
        f"{_esc(sender.dpo_contact)}. Si vous estimez que vos droits ne sont pas respectés, "
        "vous pouvez adresser une réclamation à la CNIL (www.cnil.fr).",
        "small",
    )


IF_NOT_YOU_REACTIVATION = (
    "<b>Vous n'avez rien demandé ?</b> Ne faites rien de ce code : votre accès actuel continue "
    "de fonctionner et ce code expirera sans effet. Une autre personne connaît peut-être votre "
    "numéro de sécurité sociale : ne communiquez ce code à personne et signalez-le-nous au "
    "<b>{phone}</b>."
)


def _intro(content: LetterContent) -> str:
    if content.reactivation:
        return (
            "Vous avez demandé à retrouver l'accès à votre Dossier Médical Partagé (« DMP ») "
            "sur notre site : mot de passe oublié, téléphone ou codes de secours perdus. Voici "
            "votre <b>code de réactivation</b>, à usage unique :"
        )
    if content.previous_code_blocked_on or content.previous_code_tried_on:
        return "Voici votre nouveau code de création, à usage unique :"  # the alert said why
    return (
        "Vous avez demandé la création de votre Dossier Médical Partagé (« DMP »). "
        "Voici votre code de création, à usage unique :"
    )


def body(content: LetterContent) -> list[Flowable]:
    sender = content.sender
    activate, request = _esc(content.activate_url), _esc(content.request_url)
    expiry = french_date(content.expires_on)
    if content.reactivation:
        heading = "Pour réactiver votre accès"
        steps: tuple[str, ...] = (
            f"Rendez-vous sur <b>{activate}</b>",
            "Saisissez votre numéro de sécurité sociale et ce code.",
            "Choisissez un nouveau mot de passe ; votre identifiant de connexion, inchangé, "
            "s'affiche de nouveau.",
            "Connectez-vous, puis activez de nouveau la double authentification sur votre "
            "téléphone : l'ancienne application et les anciens codes de secours ne fonctionnent "
            "plus. Vos documents et votre historique sont conservés.",
        )
        warned = [_para(IF_NOT_YOU_REACTIVATION.format(phone=_esc(sender.phone)), "alert")]
    else:
        heading = "Pour activer votre dossier"
        steps = (
            f"Rendez-vous sur <b>{activate}</b>",
            "Saisissez votre numéro de sécurité sociale et ce code.",
            "Choisissez votre mot de passe ; votre identifiant de connexion s'affiche : notez-le.",
            "Connectez-vous, puis activez la double authentification sur votre téléphone.",
        )
        warned = []
    purpose = REACTIVATION_PURPOSE if content.reactivation else CREATION_PURPOSE
    return [
        _para("Madame, Monsieur,", "body"),
        *_previous_code_notice(content),
        _para(_intro(content), "body"),
        _CodeBox(content.creation_code),
        Spacer(0, 6),
        _para(f"Ce code est valable jusqu'au <b>{expiry}</b> inclus.", "body"),
        *warned,
        _para(heading, "heading"),
        *(_para(text, "step", f"{n}.") for n, text in enumerate(steps, 1)),
        _para("Code perdu, expiré ou jamais reçu ?", "heading"),
        _para(
            f"Faites une nouvelle demande sur <b>{request}</b> : un nouveau code vous sera "
            "envoyé par courrier. Il remplace celui-ci, qui ne fonctionnera plus.",
            "body",
        ),
        *code_letter_close(sender, purpose),
    ]


NOTICE_PURPOSE = (
    "vous informer de chaque ouverture ou réactivation de l'accès à votre Dossier Médical "
    "Partagé, pour que personne ne puisse le faire à votre insu"
)


def notice_body(content: NoticeContent) -> list[Flowable]:
    """The notice of an opening: what happened, when, and whom to call if it was not the
    person. It carries no code: it only tells."""
    sender = content.sender
    day = french_date(content.opened_on)
    if content.reactivation:
        what = (
            f"L'accès à votre Dossier Médical Partagé (« DMP ») a été <b>réactivé le {day}</b> "
            "avec le code de réactivation envoyé à cette adresse : un nouveau mot de passe a été "
            "choisi, et l'ancienne application d'authentification ainsi que les anciens codes "
            "de secours ne fonctionnent plus."
        )
    else:
        what = (
            f"Votre Dossier Médical Partagé (« DMP ») a été <b>ouvert le {day}</b> avec le code "
            "de création envoyé à cette adresse : un compte d'accès à votre dossier a été créé."
        )
    return [
        _para("Madame, Monsieur,", "body"),
        _para(what, "body"),
        *notice_safety(sender),
        _para(
            "Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.",
            "body",
        ),
        Spacer(0, 4),
        *(_para(_esc(line), "signature") for line in sender.signatory),
        Spacer(0, 9),
        data_protection_notice(sender, NOTICE_PURPOSE),
    ]


def notice_safety(sender: Sender) -> list[Paragraph]:
    """What every notice of an opening says after the fact (issue 15; the takeover at 18, issue
    17): nothing to do if it was you, whom to call if not, and that nobody asks for a code."""
    return [
        _para(
            "Si c'est vous, vous n'avez rien à faire : ce courrier vous en informe par "
            "sécurité, et ne contient aucun code.",
            "body",
        ),
        _para(
            "Si ce n'était pas vous, appelez-nous sans attendre au "
            f"{_esc(sender.phone)}, {_esc(sender.phone_hours)} : une autre personne a peut-être "
            "accès à votre dossier.",
            "warning",
        ),
        _para(
            f"Une question ? Écrivez à {_esc(sender.email)}. Personne ne vous demandera jamais "
            "votre mot de passe ni un code par téléphone, par courriel ou par SMS.",
            "body",
        ),
    ]


def code_letter_close(sender: Sender, purpose: str) -> list[Flowable]:
    """How every code letter ends: never give the code, whom to ask, the signature and the
    data-protection notice for ``purpose``."""
    return [
        _para(
            "Personne ne vous demandera jamais ce code par téléphone, par courriel ou par SMS. "
            "Ne le communiquez à personne.",
            "warning",
        ),
        _para(
            f"Une question ? Appelez le <b>{_esc(sender.phone)}</b>, {_esc(sender.phone_hours)}, "
            f"ou écrivez à {_esc(sender.email)}.",
            "body",
        ),
        _para(
            "Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.",
            "body",
        ),
        Spacer(0, 4),
        *(_para(_esc(line), "signature") for line in sender.signatory),
        Spacer(0, 9),
        data_protection_notice(sender, purpose),
    ]
