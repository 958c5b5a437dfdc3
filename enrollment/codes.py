"""Creation codes: 12 symbols of Crockford's base32, printed XXXX-XXXX-XXXX, stored hashed."""

from __future__ import annotations

import secrets

from dmp_portal.crypto.hashing import keyed_hash

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # no I, L, O, U
LENGTH = 12
# Crockford's decoding rules: letters that look like digits are read as those digits.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})


def generate() -> str:
    return "".join(secrets.choice(ALPHABET) for _index in range(LENGTH))


def normalise(typed: str) -> str:
    """What the person typed, without case, spaces and hyphens (and with O read as 0)."""
    return "".join(ch for ch in (typed or "").upper() if not ch.isspace() and ch != "-").translate(
        _ALIASES
    )


def is_well_formed(code: str) -> bool:
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def grouped(code: str) -> str:
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def hash_code(code: str) -> str:
    return keyed_hash("creation-code", normalise(code))
