"""The letters of coming of age (issue 17, item 5): the young adult's code to take over their
record at 18, and the notice that it was taken over. The same page, sender, window and rules
as the other letters (``page``, ``body``); only the wording is theirs.

Every value that goes into a paragraph is escaped (``body._esc``: reportlab's markup has run
code hidden in it, CVE-2023-33733); the code is drawn as plain text, never a QR code.
"""

from __future__ import annotations

from reportlab.platypus import Flowable, Spacer

from letters.rendering.body import _CodeBox as CodeBox
from letters.rendering.body import _esc, _para, data_protection_notice, notice_safety
from letters.rendering.content import LetterContent, NoticeContent, french_date
from letters.rendering.page import _RENDER_LOCK, _Page, render_fitted

SUBJECT = ("Objet : code de reprise de votre", "Dossier Médical Partagé")
NOTICE_SUBJECT = ("Objet : reprise de votre", "Dossier Médical Partagé")
TITLE = "Code de reprise de Dossier Médical Partagé"  # the PDF's metadata: no personal data
NOTICE_TITLE = "Reprise de Dossier Médical Partagé"
PURPOSE = (
    "vous remettre, à votre majorité, l'accès à votre Dossier Médical Partagé, tenu jusque-là "
    "par vos représentants légaux"
)
NOTICE_PURPOSE = (
    "vous informer de chaque ouverture ou reprise de l'accès à votre Dossier Médical Partagé, "
    "pour que personne ne puisse le faire à votre insu"
)


def _closing(content: LetterContent | NoticeContent, purpose: str) -> list[Flowable]:
    sender = content.sender
    return [
        _para(
            "Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.",
            "body",
        ),
        Spacer(0, 4),
        *(_para(_esc(line), "signature") for line in sender.signatory),
        Spacer(0, 9),
        data_protection_notice(sender, purpose),
    ]


def _previous_code(content: LetterContent) -> list[Flowable]:
    """What wrong tries did to the previous takeover code, so that its holder learns of it."""
    if content.previous_code_blocked_on is not None:
        what = (
            "Le code de reprise envoyé dans notre précédent courrier a été bloqué le "
            f"{french_date(content.previous_code_blocked_on)} après plusieurs saisies erronées."
        )
    elif content.previous_code_tried_on is not None:
        what = (
            "Le code de reprise envoyé dans notre précédent courrier a fait l'objet de "
            "plusieurs saisies erronées, la dernière le "
            f"{french_date(content.previous_code_tried_on)}."
        )
    else:
        return []
    return [_para(f"<b>{what} Il ne fonctionne plus : utilisez le code ci-dessous.</b>", "alert")]


def majority_body(content: LetterContent) -> list[Flowable]:
    sender = content.sender
    activate, request = _esc(content.activate_url), _esc(content.request_url)
    steps = (
        f"Rendez-vous sur <b>{activate}</b>",
        "Déconnectez-vous d'abord de tout compte qui n'est pas le vôtre, puis saisissez votre "
        "numéro de sécurité sociale et ce code.",
        "Choisissez votre mot de passe ; votre identifiant de connexion s'affiche : notez-le.",
        "Connectez-vous, puis activez la double authentification sur votre téléphone. Vos "
        "documents, les autorisations d'accès données aux professionnels de santé et "
        "l'historique de votre dossier sont conservés.",
    )
    return [
        _para("Madame, Monsieur,", "body"),
        *_previous_code(content),
        _para(
            "Vous avez atteint la majorité : votre Dossier Médical Partagé (« DMP »), géré "
            "jusqu'ici par vos représentants légaux, vous revient. Leur accès à votre dossier a "
            "pris fin le jour de vos 18 ans. Voici votre <b>code de reprise</b>, à usage unique, "
            "pour y accéder vous-même :",
            "body",
        ),
        CodeBox(content.creation_code),
        Spacer(0, 6),
        _para(
            f"Ce code est valable jusqu'au <b>{french_date(content.expires_on)}</b> inclus.",
            "body",
        ),
        _para(
            "<b>Ce code est personnel :</b> c'est à vous, et à vous seulement, de le saisir. "
            "Ne le confiez à personne, pas même à vos anciens représentants légaux. Si une "
            f"autre personne l'a utilisé, appelez-nous au <b>{_esc(sender.phone)}</b>.",
            "alert",
        ),
        _para("Pour reprendre votre dossier", "heading"),
        *(_para(text, "step", f"{n}.") for n, text in enumerate(steps, 1)),
        _para("Code perdu, expiré ou jamais reçu ?", "heading"),
        _para(
            f"Faites une demande sur <b>{request}</b> : un nouveau code vous sera envoyé par "
            "courrier. Il remplace celui-ci, qui ne fonctionnera plus.",
            "body",
        ),
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
        *_closing(content, PURPOSE),
    ]


def majority_notice_body(content: NoticeContent) -> list[Flowable]:
    """The notice that the record was taken over: what happened, when, whom to call if it was
    not the person. No code."""
    sender = content.sender
    return [
        _para("Madame, Monsieur,", "body"),
        _para(
            "Votre Dossier Médical Partagé (« DMP ») a été <b>repris le "
            f"{french_date(content.opened_on)}</b> avec le code de reprise envoyé à cette "
            "adresse : un mot de passe a été choisi, et seul ce mot de passe donne désormais "
            "accès à votre dossier.",
            "body",
        ),
        *notice_safety(sender),
        *_closing(content, NOTICE_PURPOSE),
    ]


def _page(content: LetterContent | NoticeContent, title: str, subject: tuple[str, str]) -> _Page:
    return _Page(
        title,
        subject,
        content.sender,
        content.issued_on,
        content.reference,
        content.portal_address,
        content.address_lines,
    )


def render_majority_letter(content: LetterContent) -> bytes:
    """The letter carrying the young adult's takeover code (one page, shrunk if need be)."""
    page = _page(content, TITLE, SUBJECT)
    with _RENDER_LOCK:
        return render_fitted(page, lambda: majority_body(content))


def render_majority_notice(content: NoticeContent) -> bytes:
    """The one-page notice that the record was taken over (no code in it)."""
    page = _page(content, NOTICE_TITLE, NOTICE_SUBJECT)
    with _RENDER_LOCK:
        return render_fitted(page, lambda: majority_notice_body(content))
