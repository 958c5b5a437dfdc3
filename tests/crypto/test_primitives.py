"""Known-answer vectors, and the blind index being keyed."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import override_settings

from dmp_portal.crypto import aead
from dmp_portal.crypto.hashing import blind_index, reset_hash_keys

# AES-256-GCM vectors of the GCM specification adopted by NIST SP 800-38D (test cases 13-16).
NIST_VECTORS = [
    ("00" * 32, "00" * 12, "", "", "", "530f8afbc74536b9a963b4f1c4cb738b"),
    (
        "00" * 32,
        "00" * 12,
        "",
        "00" * 16,
        "cea7403d4d606b6e074ec5d3baf39d18",
        "d0d1c8a799996bf0265b98b5d48ab919",
    ),
    (
        "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
        "cafebabefacedbaddecaf888",
        "feedfacedeadbeeffeedfacedeadbeefabaddad2",
        "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
        "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
        "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
        "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
        "76fc6ece0f4e1768cddf8853bb2d551b",
    ),
]


@pytest.mark.parametrize(("key", "iv", "aad", "pt", "ct", "tag"), NIST_VECTORS)
def test_aes_gcm_known_answers(key, iv, aad, pt, ct, tag):
    cipher = AESGCM(bytes.fromhex(key))
    sealed = cipher.encrypt(bytes.fromhex(iv), bytes.fromhex(pt), bytes.fromhex(aad))
    assert sealed.hex() == ct + tag
    # Through the project's own value format: same counter-mode ciphertext after the header and
    # nonce (the tag differs, since the header joins the associated data), and it opens.
    blob = aead.seal(cipher, 42, bytes.fromhex(pt), bytes.fromhex(aad), _nonce=bytes.fromhex(iv))
    assert blob[aead.HEADER_BYTES : aead.HEADER_BYTES + 12].hex() == iv
    assert blob[aead.HEADER_BYTES + 12 : -16].hex() == ct
    assert aead.open_sealed(cipher, blob, bytes.fromhex(aad)) == bytes.fromhex(pt)


def test_value_format_seals_with_header_in_the_associated_data():
    cipher = AESGCM(bytes(32))
    blob = aead.seal(cipher, 7, b"valeur", b"context")
    assert blob[0] == 1 and aead.key_id_of(blob) == 7
    assert aead.open_sealed(cipher, blob, b"context") == b"valeur"
    header, nonce, body = blob[:9], blob[9:21], blob[21:]
    assert cipher.decrypt(nonce, body, header + b"context") == b"valeur"


def test_blind_index_is_keyed_not_a_plain_hash():
    nir = "185057800608491"
    value = blind_index(nir, "nir")
    assert value == blind_index(nir, "nir")
    assert value not in {
        hashlib.sha256(nir.encode()).hexdigest(),
        hashlib.sha256(nir[:13].encode()).hexdigest(),
    }
    assert value != blind_index(nir, "other-purpose")
    with override_settings(DMP_BLIND_INDEX_KEY="b" * 43 + "="):
        reset_hash_keys()
        try:
            assert blind_index(nir, "nir") != value
        finally:
            reset_hash_keys()
