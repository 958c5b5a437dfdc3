"""The letter's fonts: DejaVu Sans, regular and bold, and DejaVu Sans Mono Bold for the code.

Shipped in ``letters/fonts/`` with their licence (Bitstream Vera's, which allows redistribution)
and embedded, as subsets, in every letter: the mail house prints exactly what was rendered,
whatever fonts its machines hold. Registered with reportlab once, when this module is imported.
"""

from __future__ import annotations

import functools
import zlib
from pathlib import Path
from typing import Any

from reportlab.pdfbase.pdfdoc import PDFArray, PDFName
from reportlab.pdfbase.pdfmetrics import registerFont, registerFontFamily
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile
from reportlab.pdfgen.canvas import Canvas

FONTS_DIR = Path(__file__).resolve().parent.parent / "fonts"
REGULAR, BOLD, MONO_BOLD = "DejaVuSans", "DejaVuSans-Bold", "DejaVuSansMono-Bold"
# Every character of French, assigned first and in this order in every letter, so that the font
# subsets of every letter are the same and are built once (below); anything else still prints.
FRENCH = "àâäçéèêëîïôöùûüÿœæÀÂÄÇÉÈÊËÎÏÔÖÙÛÜŸŒÆ«»’‘“”–—…€°"


class _LetterFont(TTFont):
    """A TrueType font whose subsets are built and compressed once per process, not per letter.

    Embedding costs reportlab, for every PDF, a subset (a font program cut out of the file), its
    zlib compression and its table of widths: more than laying out the whole letter. The letters
    of a run share their subsets (``prime``), so all three are kept, in bounded caches.
    """

    def __init__(self, name: str, path: Path) -> None:
        super().__init__(name, str(path))
        self._make_subset = functools.lru_cache(maxsize=32)(self._subset_program)
        self.face.makeSubset = lambda subset: self._make_subset(tuple(subset))

    def _subset_program(self, subset: tuple[int, ...]) -> bytes:
        return bytes(TTFontFile.makeSubset(self.face, list(subset)))

    def prime(self, canvas: Canvas) -> None:
        self.splitString(FRENCH, canvas._doc)

    def addObjects(self, doc: Any) -> None:
        super().addObjects(doc)
        for font in doc.idToObject["BasicFonts"].dict.values():
            widths = getattr(font, "Widths", None)
            if isinstance(widths, PDFArray):  # bytes are written as they are
                font.Widths = _pdf_array(tuple(widths.sequence))
        if not doc.compression:
            return
        prefixes = (f"fontFile:{self.face.filename}(", "toUnicodeCMap:")
        for name, stream in doc.idToObject.items():
            if name.startswith(prefixes) and "Filter" not in stream.dictionary.dict:
                # Compressed here, once, and marked as such, so reportlab does not do it again.
                stream.content = _deflate(stream.content)
                stream.dictionary["Filter"] = PDFArray([PDFName("FlateDecode")])


@functools.lru_cache(maxsize=128)
def _deflate(content: bytes | str) -> bytes:
    return zlib.compress(content.encode("utf-8") if isinstance(content, str) else content)


@functools.lru_cache(maxsize=128)
def _pdf_array(numbers: tuple[float, ...]) -> bytes:
    return bytes(PDFArray(numbers).format(None))


FONTS = {name: _LetterFont(name, FONTS_DIR / f"{name}.ttf") for name in (REGULAR, BOLD, MONO_BOLD)}
for _font in FONTS.values():  # once per process: parsing a font file costs ~40 ms
    registerFont(_font)
# <b> in a paragraph switches to the bold face of the same family (no italic is used).
registerFontFamily(REGULAR, normal=REGULAR, bold=BOLD, italic=REGULAR, boldItalic=BOLD)


def prime(canvas: Canvas) -> None:
    """Give the text fonts' French characters the same codes in every letter (see FRENCH)."""
    for name in (REGULAR, BOLD):
        FONTS[name].prime(canvas)
