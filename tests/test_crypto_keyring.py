"""Master keys: sealing binds a value to its owner; older keys keep opening old values."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.crypto.keyring import (
    DecryptionError,
    LocalKeyProvider,
    generate_master_key_line,
    parse_master_keys,
)


def provider(*ids: str, lines: dict[str, str]) -> LocalKeyProvider:
    return LocalKeyProvider(parse_master_keys(",".join(lines[i] for i in ids)))


@pytest.fixture
def lines():
    return {key_id: generate_master_key_line(key_id) for key_id in ("k1", "k2")}


def test_sealed_value_opens_only_with_the_same_owner(lines):
    keys = provider("k1", lines=lines)
    sealed = keys.wrap(b"secret", b"owner=alice")
    assert keys.unwrap(sealed, b"owner=alice") == b"secret"
    with pytest.raises(DecryptionError):
        keys.unwrap(sealed, b"owner=mallory")


def test_tampering_is_detected(lines):
    keys = provider("k1", lines=lines)
    sealed = bytearray(keys.wrap(b"secret", b"aad"))
    sealed[-1] ^= 1
    with pytest.raises(DecryptionError):
        keys.unwrap(bytes(sealed), b"aad")


def test_a_new_current_key_still_opens_values_sealed_with_the_old_one(lines):
    old = provider("k1", lines=lines)
    sealed = old.wrap(b"secret", b"aad")
    rotated = provider("k2", "k1", lines=lines)
    assert rotated.unwrap(sealed, b"aad") == b"secret"
    assert rotated.key_id_of(rotated.wrap(b"x", b"aad")) == "k2"
    without_old = provider("k2", lines=lines)
    with pytest.raises(DecryptionError, match="not configured"):
        without_old.unwrap(sealed, b"aad")


@pytest.mark.parametrize("bad", ["", "nocolon", "k1:not-base64!", "k1:c2hvcnQ", "k1:{k},k1:{k}"])
def test_malformed_master_keys_are_refused(bad, lines):
    key = lines["k1"].split(":", 1)[1]
    with pytest.raises(ImproperlyConfigured):
        parse_master_keys(bad.format(k=key))


def test_key_material_never_appears_in_repr(lines):
    (key,) = parse_master_keys(lines["k1"])
    assert lines["k1"].split(":", 1)[1] not in repr(key)
