"""Master keys in a PKCS#11 module (SoftHSM2, initialised by scripts/testenv.py): generated
inside it, never extractable, wrap and unwrap only; rotate_keys moves data keys from local
master keys into it and every value and file still reads byte for byte."""

from __future__ import annotations

import io
import os
import uuid
from io import StringIO

import pkcs11
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import FileSystemStorage
from django.core.management import CommandError, call_command
from django.test import override_settings
from pkcs11 import Attribute, KeyType, Mechanism, ObjectClass

from dmp_portal.crypto import hsm
from dmp_portal.crypto.datakeys import create_data_key, forget_cached_keys
from dmp_portal.crypto.errors import DecryptionError
from dmp_portal.crypto.files import open_decrypted, save_encrypted
from dmp_portal.crypto.keyring import (
    generate_master_key_line,
    get_key_provider,
    reset_key_provider,
)
from dmp_portal.crypto.models import DataKey
from tests.crypto_specimens.models import Specimen
from tests.processes import services_missing

MODULE = os.environ.get("DMP_TEST_PKCS11_MODULE", "")
TOKEN = os.environ.get("DMP_TEST_PKCS11_TOKEN_LABEL", "")
PIN = os.environ.get("DMP_TEST_PKCS11_PIN", "")
AAD = b"crypto.datakey|owner=test"
LOCAL_KEY = generate_master_key_line("local-1")


@pytest.fixture(autouse=True)
def _token():
    """Skipped on a developer's machine without SoftHSM2, failed under CI=true."""
    if not MODULE:
        services_missing(
            "SoftHSM2 is not installed (apt-get install softhsm2): scripts/testenv.py "
            "initialises its throwaway PKCS#11 token only when it is"
        )


@pytest.fixture(autouse=True)
def _fresh_provider(_token):
    reset_key_provider()
    forget_cached_keys()
    yield
    reset_key_provider()
    forget_cached_keys()


def new_key() -> str:
    """A key of its own for each test: the token lives as long as the whole test run."""
    label = f"hsm-{uuid.uuid4().hex[:12]}"
    hsm.generate_master_key(MODULE, TOKEN, PIN, label)
    return label


def provider(*labels: str) -> hsm.Pkcs11KeyProvider:
    return hsm.Pkcs11KeyProvider(MODULE, TOKEN, PIN, labels)


def use_hsm(labels: list[str], master_keys: str = ""):
    reset_key_provider()
    forget_cached_keys()
    return override_settings(
        DMP_KEY_PROVIDER="pkcs11",
        DMP_PKCS11_MODULE=MODULE,
        DMP_PKCS11_TOKEN_LABEL=TOKEN,
        DMP_PKCS11_PIN=PIN,
        DMP_PKCS11_KEY_LABELS=",".join(labels),
        DMP_MASTER_KEYS=master_keys,
    )


def use_local(master_keys: str, hsm_labels: str = ""):
    reset_key_provider()
    forget_cached_keys()
    return override_settings(
        DMP_KEY_PROVIDER="local",
        DMP_MASTER_KEYS=master_keys,
        DMP_PKCS11_MODULE=MODULE,
        DMP_PKCS11_TOKEN_LABEL=TOKEN,
        DMP_PKCS11_PIN=PIN,
        DMP_PKCS11_KEY_LABELS=hsm_labels,
    )


def test_the_token_reports_the_master_key_generated_inside_it_and_never_extractable():
    label = new_key()
    token = pkcs11.lib(MODULE).get_token(token_label=TOKEN)
    with hsm.open_session(token, PIN) as session:
        key = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=label)
        assert key[Attribute.LOCAL] is True  # generated inside the module, not imported
        assert key[Attribute.EXTRACTABLE] is False
        assert key[Attribute.NEVER_EXTRACTABLE] is True
        assert key[Attribute.SENSITIVE] is True
        assert key[Attribute.ALWAYS_SENSITIVE] is True
        assert key[Attribute.TOKEN] is True
        assert (key[Attribute.WRAP], key[Attribute.UNWRAP]) == (True, True)
        assert (key[Attribute.ENCRYPT], key[Attribute.DECRYPT]) == (False, False)
        assert key[Attribute.VALUE_LEN] == 32
        with pytest.raises(pkcs11.AttributeSensitive):
            key[Attribute.VALUE]  # noqa: B018
        # Nor can another key of the token carry it out wrapped.
        other = session.get_key(ObjectClass.SECRET_KEY, KeyType.AES, label=new_key())
        with pytest.raises(pkcs11.KeyUnextractable):
            other.wrap_key(key, mechanism=Mechanism.AES_KEY_WRAP)


def test_wrap_then_unwrap_gives_the_data_key_back_and_never_holds_it_in_clear():
    label = new_key()
    secret = os.urandom(32)
    sealed = provider(label).wrap(secret, AAD)
    assert sealed[0] == hsm.FORMAT_VERSION
    assert provider(label).key_id_of(sealed) == label
    assert secret not in sealed
    assert provider(label).unwrap(sealed, AAD) == secret


def test_an_unwrap_with_the_wrong_key_fails():
    right, wrong = new_key(), new_key()
    sealed = provider(right).wrap(os.urandom(32), AAD)
    # The same wrapped bytes presented as if the other key had wrapped them.
    relabelled = bytes([hsm.FORMAT_VERSION, len(wrong)]) + wrong.encode() + sealed[2 + len(right) :]
    with pytest.raises(DecryptionError):
        provider(wrong, right).unwrap(relabelled, AAD)


def test_a_data_key_moved_to_another_owner_or_altered_does_not_open():
    label = new_key()
    sealed = provider(label).wrap(os.urandom(32), AAD)
    with pytest.raises(DecryptionError, match="owner"):
        provider(label).unwrap(sealed, b"crypto.datakey|owner=someone-else")
    flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(DecryptionError):
        provider(label).unwrap(flipped, AAD)
    with pytest.raises(DecryptionError, match="not configured"):
        provider(new_key()).unwrap(sealed, AAD)


def test_the_provider_refuses_a_key_that_could_leave_the_token():
    label = f"weak-{uuid.uuid4().hex[:12]}"
    token = pkcs11.lib(MODULE).get_token(token_label=TOKEN)
    with hsm.open_session(token, PIN, rw=True) as session:
        template = {**hsm.MASTER_KEY_TEMPLATE, Attribute.EXTRACTABLE: True}
        session.generate_key(KeyType.AES, 256, label=label, store=True, template=template)
    with pytest.raises(ImproperlyConfigured, match="EXTRACTABLE"):
        provider(label)


def test_a_label_missing_from_the_token_stops_the_provider():
    with pytest.raises(ImproperlyConfigured, match="exactly one AES key"):
        provider(f"absent-{uuid.uuid4().hex[:8]}")


def test_create_hsm_key_prints_the_label_and_id_and_refuses_a_label_twice():
    label = f"cmd-{uuid.uuid4().hex[:12]}"
    out = StringIO()
    with use_hsm([label]):
        call_command("create_hsm_key", label, stdout=out)
        assert out.getvalue().startswith(f"created label={label} id=")
        assert len(out.getvalue().strip().rsplit("=", 1)[1]) == 32  # 16 bytes in hex
        with pytest.raises(CommandError, match="already holds"):
            call_command("create_hsm_key", label)
    assert provider(label).current_key_id() == label


def test_local_and_hsm_key_ids_must_differ():
    with use_hsm([new_key(), "local-1"], LOCAL_KEY), pytest.raises(ImproperlyConfigured):
        get_key_provider()


@pytest.mark.django_db
def test_rotation_from_local_keys_into_the_hsm_keeps_every_document_readable(tmp_path):
    storage = FileSystemStorage(location=tmp_path / "media")
    contents = [os.urandom(300_000 + i) for i in range(3)]
    with use_local(LOCAL_KEY):
        specimens = [
            Specimen.objects.create(data_key=create_data_key("patient"), text=f"v{i}")
            for i in range(5)
        ]
        files = [
            save_encrypted(storage, "doc.bin", io.BytesIO(content), s.data_key, AAD)[0]
            for s, content in zip(specimens, contents, strict=False)
        ]
    label = new_key()
    with use_hsm([label], LOCAL_KEY):
        out = StringIO()
        with pytest.raises(SystemExit) as exit_:
            call_command("rotate_keys", "--check", stdout=out)
        assert (exit_.value.code, out.getvalue()) == (1, f"current={label} remaining=5\n")
        out = StringIO()
        call_command("rotate_keys", "--batch-size", "2", stdout=out)
        assert out.getvalue().splitlines()[-1] == f"current={label} rewrapped=5 remaining=0"
    keys = DataKey.objects.filter(pk__in=[s.data_key_id for s in specimens])
    assert {bytes(k.wrapped_key)[0] for k in keys} == {hsm.FORMAT_VERSION}
    assert {k.master_key_id for k in keys} == {label}
    # The local master key removed: everything still reads, from the HSM alone.
    with use_hsm([label]):
        assert [Specimen.objects.get(pk=s.pk).text for s in specimens] == [
            f"v{i}" for i in range(5)
        ]
        for specimen, name, content in zip(specimens, files, contents, strict=False):
            data_key = DataKey.objects.get(pk=specimen.data_key_id)
            assert b"".join(open_decrypted(storage, name, data_key, AAD)) == content
    # And the old local key alone no longer opens them: they really moved.
    with use_local(LOCAL_KEY), pytest.raises(DecryptionError):
        Specimen.objects.get(pk=specimens[0].pk).text  # noqa: B018


@pytest.mark.django_db
def test_rotation_out_of_the_hsm_back_to_local_keys_keeps_every_value_readable():
    label = new_key()
    with use_hsm([label]):
        specimens = [
            Specimen.objects.create(data_key=create_data_key("patient"), text=f"w{i}")
            for i in range(3)
        ]
    with use_local(LOCAL_KEY, hsm_labels=label):
        out = StringIO()
        call_command("rotate_keys", stdout=out)
        assert out.getvalue().splitlines()[-1] == "current=local-1 rewrapped=3 remaining=0"
    with use_local(LOCAL_KEY):  # the HSM no longer configured at all
        assert [Specimen.objects.get(pk=s.pk).text for s in specimens] == ["w0", "w1", "w2"]
