"""rotate_keys: every data key moves under the newest master key; old keys can then go."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from dmp_portal.crypto import reset_key_provider
from dmp_portal.crypto.datakeys import (
    create_data_key,
    destroy_data_key,
    forget_cached_keys,
    rewrap_batch,
)
from dmp_portal.crypto.errors import DecryptionError
from dmp_portal.crypto.keyring import generate_master_key_line
from dmp_portal.crypto.models import DataKey
from tests.accounts.factories import UserFactory, add_totp
from tests.crypto_specimens.models import Specimen

pytestmark = pytest.mark.django_db
KEY_1 = generate_master_key_line("key-1")
KEY_2 = generate_master_key_line("key-2")


@pytest.fixture(autouse=True)
def _fresh_provider():
    reset_key_provider()
    forget_cached_keys()
    yield
    reset_key_provider()
    forget_cached_keys()


def use_keyring(*lines: str):
    reset_key_provider()
    forget_cached_keys()
    return override_settings(DMP_MASTER_KEYS=",".join(lines))


def run(*args) -> tuple[int | str | None, str]:
    out = StringIO()
    try:
        call_command("rotate_keys", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_rotation_then_removing_the_old_key_keeps_every_value_readable():
    with use_keyring(KEY_1):
        specimens = [
            Specimen.objects.create(data_key=create_data_key("patient"), text=f"v{i}")
            for i in range(7)
        ]
        device = add_totp(UserFactory())
        secret = device.bin_key
    with use_keyring(KEY_2, KEY_1):
        assert run("--check") == (1, "current=key-2 remaining=8\n")
        code, output = run("--batch-size", "3")
        assert code == 0
        assert output.strip().splitlines()[-1] == "current=key-2 rewrapped=8 remaining=0"
        assert run("--check") == (0, "current=key-2 remaining=0\n")
    with use_keyring(KEY_2):
        assert [Specimen.objects.get(pk=s.pk).text for s in specimens] == [
            f"v{i}" for i in range(7)
        ]
        assert type(device).objects.get(pk=device.pk).bin_key == secret
    with use_keyring(KEY_1), pytest.raises(DecryptionError, match="not configured"):
        Specimen.objects.get(pk=specimens[0].pk).text  # noqa: B018


def test_rotation_is_resumable_batch_by_batch():
    with use_keyring(KEY_1):
        for _index in range(5):
            create_data_key("patient")
    with use_keyring(KEY_2, KEY_1):
        assert rewrap_batch(2) == 2  # an interrupted run stops here
        assert DataKey.objects.filter(master_key_id="key-1").count() == 3
        assert run()[0] == 0
        assert DataKey.objects.filter(master_key_id="key-2").count() == 5


def test_rotation_skips_destroyed_keys():
    with use_keyring(KEY_1):
        destroy_data_key(create_data_key("patient"))
        create_data_key("patient")
    with use_keyring(KEY_2, KEY_1):
        assert run()[1].strip().splitlines()[-1] == "current=key-2 rewrapped=1 remaining=0"
