"""The search form of a name: what a person types and what the directory holds, compared.

Below the models (the practitioner profile stores it, its migration fills it): lower case, no
accents, ligatures opened ("œ" → "oe"), hyphens and apostrophes as spaces, one space between
words. "Hélène Lefèvre-Cœur" and "helene lefevre coeur" give the same key.
"""

from __future__ import annotations

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter and its accent.
_LETTERS = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ß": "ss", "ł": "l", "đ": "d"})
_SEPARATORS = re.compile(r"[^0-9a-z]+")


def search_key(*parts: str) -> str:
    """The parts' words, normalised and joined by one space ("" for no letter or digit)."""
    text = " ".join(part or "" for part in parts).casefold().translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_SEPARATORS.split(plain)).strip()
