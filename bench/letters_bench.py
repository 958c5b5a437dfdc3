"""Cost of rendering creation-code letters, beside the same page drawn with bare reportlab.

    .venv/bin/python bench/letters_bench.py [letters per round]

No Django: only ``letters.rendering`` and reportlab are imported. One process, so the rates
are per core. Each round renders N letters (200 by default) with ``render_creation_letter``
and N with the inlined baseline below, alternating, after a warm-up; the script prints the
median of the rounds' rates, the median time of one letter, and the ratio.

The baseline is the page a developer would write by hand on a canvas: the same strings, fonts
and positions, lines wrapped greedily by width (``stringWidth``) and drawn with text objects,
bold where the letter is bold (the URLs, the date, the notice's headings), the steps indented
as in the letter; no validation, no escaping, no ``Paragraph`` layout, no shrink-to-fit. Its
fonts are the same DejaVu files embedded by reportlab's plain ``TTFont`` (a subset built and
compressed for every PDF), where the portal keeps the subsets it shares between letters.
Issue 20 checked that both pages print the same words in the same order (pypdf's text of
both, compared word by word) and made the bare page bold where the letter is (it drew inline
bold in the regular face before, a slightly cheaper page than the letter).
"""

from __future__ import annotations

import datetime
import io
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reportlab.lib.colors import Color  # noqa: E402
from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.units import mm  # noqa: E402
from reportlab.pdfbase.pdfmetrics import registerFont, stringWidth  # noqa: E402
from reportlab.pdfbase.ttfonts import TTFont  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402

from letters.rendering.content import LetterContent, Sender  # noqa: E402
from letters.rendering.fonts import FONTS_DIR  # noqa: E402
from letters.rendering.page import render_creation_letter  # noqa: E402

ROUNDS = 7
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
          "septembre", "octobre", "novembre", "décembre")  # fmt: skip
SENDER = Sender(
    name="Opérateur du DMP (exemple)",
    address_lines=("Service des inscriptions (exemple)", "TSA 00000", "75000 PARIS"),
    phone="01 99 00 00 00 (numéro d'exemple)",
    phone_hours="appel non surtaxé, du lundi au vendredi de 8 h à 18 h",
    email="contact@example.org",
    dpo_contact="Délégué à la protection des données (exemple), dpo@example.org",
    place="Paris",
    signatory=("Le responsable du service des inscriptions (exemple)",),
    retention="un an après l'envoi de ce courrier (durée d'exemple)",
)
# The same font files under other names, as plain reportlab fonts: the baseline's.
REGULAR, BOLD, MONO = "BareDejaVuSans", "BareDejaVuSans-Bold", "BareDejaVuSansMono-Bold"
for _name in (REGULAR, BOLD, MONO):
    registerFont(TTFont(_name, str(FONTS_DIR / f"{_name.removeprefix('Bare')}.ttf")))


def contents(count: int) -> list[LetterContent]:
    """Different letters, as a mail run would have them (not timed)."""
    rng = random.Random(2026)  # noqa: S311 - fake data for a benchmark, not secrets
    letters = []
    for index in range(count):
        code = "".join(rng.choice(ALPHABET) for _ in range(12))
        letters.append(
            LetterContent(
                reference=f"L-{index:08d}",
                issued_on=datetime.date(2026, 11, 28),
                address_lines=(
                    f"MADAME CLAIRE DUPONT {index}",
                    "APPARTEMENT 12 ESCALIER B",
                    f"{index % 200 + 1} RUE DES LILAS",
                    "75011 PARIS",
                ),
                creation_code=f"{code[:4]}-{code[4:8]}-{code[8:]}",
                expires_on=datetime.date(2027, 1, 27),
                activate_url="https://dmp.example.fr/enrollment/activate/",
                request_url="https://dmp.example.fr/enrollment/",
                portal_address="dmp.example.fr",
                sender=SENDER,
            )
        )
    return letters


def _date(day: datetime.date) -> str:
    return f"{'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def bare_letter(c: LetterContent) -> bytes:
    """The same page, drawn directly on a canvas."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1, pageCompression=1, initialFontName=REGULAR)
    canvas.setTitle("Code de création de Dossier Médical Partagé")
    canvas.setAuthor(c.sender.name)
    height, left, width = A4[1], 20 * mm, 170 * mm
    sender = (c.sender.name, *c.sender.address_lines, f"Tél. : {c.sender.phone}", c.portal_address)
    for n, line in enumerate(sender):
        canvas.setFont(BOLD if n == 0 else REGULAR, 11 if n == 0 else 10)
        canvas.drawString(left, height - 18 * mm - 12.5 * n, line)
    canvas.setFont(REGULAR, 10)
    canvas.drawString(left, height - 64 * mm, f"{c.sender.place}, le {_date(c.issued_on)}")
    canvas.drawString(left, height - 70 * mm, f"Référence : {c.reference}")
    canvas.setFont(BOLD, 11)
    canvas.drawString(left, height - 79 * mm, "Objet : code de création de votre")
    canvas.drawString(left, height - 79 * mm - 14, "Dossier Médical Partagé")
    size = min(10.0, 229.6 / max(stringWidth(line, REGULAR, 1) for line in c.address_lines))
    canvas.setFont(REGULAR, size)
    for n, line in enumerate(c.address_lines):
        canvas.drawString(112 * mm, height - 57 * mm - 0.76 * size - 1.2 * size * n, line)

    y = height - 100 * mm - 11

    def para(
        text: str,
        font: str = REGULAR,
        size: float = 11,
        lead: float = 14,
        indent: float = 0,
        bullet: str = "",
    ) -> None:
        """``text`` wrapped to the column, ``<b>...</b>`` in bold."""
        nonlocal y
        words: list[tuple[str, str, bool]] = []  # (word, font, after a space)
        open_end = False  # the previous run ended inside a word
        for n, run in enumerate(re.split(r"</?b>", text)):
            face = BOLD if n % 2 else font
            glued = open_end and bool(run) and not run[0].isspace()
            words.extend((word, face, not (glued and k == 0)) for k, word in enumerate(run.split()))
            open_end = bool(run) and not run[-1].isspace()
        space = stringWidth(" ", REGULAR, size)
        lines: list[list[tuple[str, str, bool]]] = [[]]
        used = 0.0
        for word, face, spaced in words:
            wide = stringWidth(word, face, size) + (space if spaced and lines[-1] else 0)
            if lines[-1] and spaced and used + wide > width - indent:
                lines.append([])
                wide, used = stringWidth(word, face, size), 0.0
            used += wide
            lines[-1].append((word, face, spaced))
        if bullet:
            canvas.setFont(font, size)
            canvas.drawString(left + 2, y, bullet)
        for line in lines:
            text_object = canvas.beginText(left + indent, y)
            runs: list[tuple[str, list[str]]] = []  # words of one face together
            for n, (word, face, spaced) in enumerate(line):
                if not runs or runs[-1][0] != face:
                    runs.append((face, []))
                runs[-1][1].append(f" {word}" if spaced and n else word)
            for face, parts in runs:
                text_object.setFont(face, size)
                text_object.textOut("".join(parts))
            canvas.drawText(text_object)
            y -= lead
        y -= 4

    para("Madame, Monsieur,")
    para(
        "Vous avez demandé la création de votre Dossier Médical Partagé (« DMP »). "
        "Voici votre code de création, à usage unique :"
    )
    canvas.setFillColor(Color(0.93, 0.93, 0.93))
    canvas.roundRect(left, y - 28, width, 38, 4, stroke=0, fill=1)
    canvas.setFillColor(Color(0, 0, 0))
    canvas.setFont(MONO, 24)
    canvas.drawCentredString(left + width / 2, y - 16, c.creation_code)
    y -= 50
    para(f"Ce code est valable jusqu'au <b>{_date(c.expires_on)}</b> inclus.")
    para("Pour activer votre dossier", BOLD, 11.5)
    for n, step in enumerate(
        (
            f"Rendez-vous sur <b>{c.activate_url}</b>",
            "Saisissez votre numéro de sécurité sociale et ce code.",
            "Choisissez votre mot de passe ; votre identifiant de connexion s'affiche : notez-le.",
            "Connectez-vous, puis activez la double authentification sur votre téléphone.",
        ),
        1,
    ):
        para(step, indent=16, bullet=f"{n}.")
    para("Code perdu, expiré ou jamais reçu ?", BOLD, 11.5)
    para(
        f"Faites une nouvelle demande sur <b>{c.request_url}</b> : un nouveau code vous sera "
        "envoyé par courrier. Il remplace celui-ci, qui ne fonctionnera plus."
    )
    canvas.setFillColor(Color(0.93, 0.93, 0.93))
    canvas.rect(left - 5, y - 21, width + 10, 36, stroke=0, fill=1)
    canvas.setFillColor(Color(0, 0, 0))
    para(
        "Personne ne vous demandera jamais ce code par téléphone, par courriel ou par SMS. "
        "Ne le communiquez à personne.",
        BOLD,
    )
    y -= 8
    s = c.sender
    para(f"Une question ? Appelez le <b>{s.phone}</b>, {s.phone_hours}, ou écrivez à {s.email}.")
    para("Veuillez agréer, Madame, Monsieur, l'expression de nos salutations distinguées.")
    for line in s.signatory:
        canvas.drawRightString(left + width, y, line)
        y -= 14
    y -= 9
    canvas.setFillColor(Color(0.2, 0.2, 0.2))
    para(
        "<b>Protection de vos données personnelles.</b> <b>Responsable du traitement :</b> "
        f"{', '.join((s.name, *s.address_lines))}. <b>Finalité :</b> vous adresser, à votre "
        "demande, le code de création de votre Dossier Médical Partagé. <b>Base légale :</b> "
        "mission d'intérêt public (article 6.1.e du RGPD ; articles L. 1111-14 et suivants du "
        "code de la santé publique). <b>Données :</b> vos nom, prénoms et adresse, issus des "
        "données de référence de votre carte Vitale ; aucune donnée de santé. "
        "<b>Destinataires :</b> les agents habilités du service des inscriptions et le "
        "prestataire qui imprime et poste ce courrier. "
        f"<b>Conservation :</b> {s.retention}. <b>Vos droits :</b> accès, rectification, "
        "limitation et opposition (articles 15 à 21 du RGPD). Pour les exercer ou pour toute "
        "question, contactez le délégué à la protection des données (DPO) : "
        f"{s.dpo_contact}. Si vous estimez que vos droits ne sont pas respectés, vous pouvez "
        "adresser une réclamation à la CNIL (www.cnil.fr).",
        size=7.5,
        lead=9,
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def one_round(render: Callable[[LetterContent], bytes], letters: list[LetterContent]):
    """(letters per second, per-letter times in seconds) for one pass over the letters."""
    times = []
    start = time.perf_counter()
    for content in letters:
        before = time.perf_counter()
        render(content)
        times.append(time.perf_counter() - before)
    return len(letters) / (time.perf_counter() - start), times


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    letters = contents(count)
    cases = {
        "portal (render_creation_letter)": render_creation_letter,
        "bare reportlab": bare_letter,
    }
    for render in cases.values():  # warm-up: imports, font metrics, caches
        one_round(render, letters[:20])
    rates: dict[str, list[float]] = {name: [] for name in cases}
    times: dict[str, list[float]] = {name: [] for name in cases}
    for index in range(ROUNDS):
        # Alternate the order so that neither side always runs on a warmer or cooler CPU.
        for name in list(cases)[:: 1 if index % 2 == 0 else -1]:
            rate, letter_times = one_round(cases[name], letters)
            rates[name].append(rate)
            times[name].extend(letter_times)
    print(f"{count} letters per round, {ROUNDS} rounds, one process (rates are per core)")
    for name in cases:
        print(
            f"  {name:32} {statistics.median(rates[name]):7.1f} letters/s   "
            f"median {statistics.median(times[name]) * 1000:6.2f} ms/letter   "
            f"(rounds {min(rates[name]):.1f}-{max(rates[name]):.1f} letters/s)"
        )
    portal, bare = (statistics.median(rates[name]) for name in cases)
    sizes = [len(render(letters[0])) for render in cases.values()]
    print(
        f"  ratio: the portal takes {bare / portal:.2f}x the time of bare reportlab "
        f"(its rate at {portal / bare * 100:.0f} % of bare reportlab's; issue 20's target: 80 %)"
    )
    print(f"  PDF size of one letter: portal {sizes[0]} bytes, bare {sizes[1]} bytes")


if __name__ == "__main__":
    main()
