"""The ledger of destroyed data keys: written (and made durable) before a key is destroyed, and
replayed after a restore of an older database backup, which brings the wrapped key back."""

from __future__ import annotations

import re
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from dmp_portal.crypto import ledger
from dmp_portal.crypto.datakeys import cipher_for, create_data_key, destroy_data_key
from dmp_portal.crypto.fields import is_destroyed
from dmp_portal.crypto.models import DataKey
from enrollment.models import Beneficiary
from tests.enrollment.factories import make_beneficiary
from tests.production import production_environ, run_manage

pytestmark = pytest.mark.django_db
LINE = re.compile(r"^[0-9a-f-]{36} \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


@pytest.fixture
def ledger_file(settings, tmp_path) -> Path:
    path = tmp_path / "ledger" / "destroyed-keys.log"
    settings.DMP_SHRED_LEDGER_PATH = str(path)
    return path


def replay(*args: str) -> str:
    out = StringIO()
    call_command("replay_shred_ledger", *args, stdout=out)
    return out.getvalue().strip()


def backup_of(data_key: DataKey) -> dict[str, object]:
    """The key's row as a database backup taken now holds it."""
    row = DataKey.objects.filter(pk=data_key.pk).values("wrapped_key", "master_key_id").get()
    return dict(row)


def restore(data_key: DataKey, backup: dict[str, object]) -> None:
    """The restore of that backup brings the wrapped key back."""
    DataKey.objects.filter(pk=data_key.pk).update(destroyed_at=None, **backup)


def test_destroying_a_key_appends_one_line_of_ids_only(ledger_file):
    person = make_beneficiary(last_name="Lemaire", first_name="Odile")
    destroy_data_key(person.data_key)
    lines = ledger_file.read_text().splitlines()
    assert lines == [f"{person.data_key.uid} {lines[0].split(' ')[1]}"]
    assert LINE.match(lines[0])
    # Nothing of the person: neither their registry reference nor anything they are.
    for trace in (str(person.uid), person.nir, "Lemaire", "Odile"):
        assert trace not in ledger_file.read_text()
    assert is_destroyed(Beneficiary.objects.get(pk=person.pk).last_name)


def test_the_line_is_written_before_the_database_changes(ledger_file, monkeypatch):
    data_key = create_data_key("patient")
    seen = []
    real_append = ledger.append

    def spying_append(key_uid, at):
        seen.append(DataKey.objects.get(uid=key_uid).destroyed_at)
        real_append(key_uid, at)

    monkeypatch.setattr(ledger, "append", spying_append)
    destroy_data_key(data_key)
    assert seen == [None]  # when the line was written, the key was still whole
    assert DataKey.objects.get(pk=data_key.pk).destroyed_at is not None


def test_a_ledger_that_cannot_be_written_leaves_the_key_intact(settings, tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    settings.DMP_SHRED_LEDGER_PATH = str(blocker / "destroyed-keys.log")
    person = make_beneficiary(last_name="Lemaire")
    with pytest.raises(OSError):
        destroy_data_key(person.data_key)
    data_key = DataKey.objects.get(pk=person.data_key_id)
    assert data_key.destroyed_at is None and data_key.wrapped_key is not None
    assert Beneficiary.objects.get(pk=person.pk).last_name == "Lemaire"


def test_a_replay_after_a_restore_destroys_the_key_again_and_is_idempotent(ledger_file):
    person = make_beneficiary(last_name="Lemaire")
    kept = make_beneficiary(last_name="Gardé")  # never destroyed: left alone
    backup = backup_of(person.data_key)
    destroy_data_key(person.data_key)
    destroy_data_key(create_data_key("patient"))  # destroyed, still destroyed after "restore"
    restore(person.data_key, backup)
    assert Beneficiary.objects.get(pk=person.pk).last_name == "Lemaire"  # brought back
    assert replay() == "replayed=1 already=1 unknown=0"
    assert is_destroyed(Beneficiary.objects.get(pk=person.pk).last_name)
    assert Beneficiary.objects.get(pk=kept.pk).last_name == "Gardé"
    # Again: nothing left to do.
    assert replay() == "replayed=0 already=2 unknown=0"
    # A key the restored database never held (created after its backup) is counted, not an error.
    with ledger_file.open("a") as handle:
        handle.write("00000000-0000-4000-8000-000000000000 2026-11-30T10:00:00Z\n")
    assert replay() == "replayed=0 already=2 unknown=1"


def test_the_ledger_option_names_another_file(ledger_file, tmp_path):
    data_key = create_data_key("patient")
    backup = backup_of(data_key)
    destroy_data_key(data_key)
    restore(data_key, backup)
    copy = tmp_path / "copy-from-the-ledger-backup.log"
    copy.write_text(ledger_file.read_text())
    ledger_file.unlink()
    assert replay("--ledger", str(copy)) == "replayed=1 already=0 unknown=0"
    cipher = DataKey.objects.get(pk=data_key.pk)
    assert cipher.destroyed_at is not None
    with pytest.raises(Exception, match="destroyed"):
        cipher_for(cipher)


@pytest.mark.parametrize(
    ("bad_line", "ending"),
    [
        ("not a ledger line", "\n"),
        ("00000000-0000-4000-8000-000000000000 30/11/2026", "\n"),
        ("00000000-0000-4000-8000-000000000000 2026-13-40T10:00:00Z", "\n"),
        ("00000000-0000-4000-8000-000000000000 2026-11-30T10:00", ""),  # cut short by a crash
    ],
)
def test_a_malformed_line_stops_the_replay_naming_it_and_nothing_is_replayed(
    ledger_file, bad_line, ending
):
    data_key = create_data_key("patient")
    backup = backup_of(data_key)
    destroy_data_key(data_key)
    restore(data_key, backup)
    with ledger_file.open("a") as handle:
        handle.write(bad_line + ending)
    with pytest.raises(CommandError) as raised:
        replay()
    message = str(raised.value)
    assert "La ligne 2 du registre" in message and "<identifiant de la clé>" in message
    assert "Rien n'a été rejoué" in message
    # The whole ledger is checked before any key is touched: the good line 1 waits too.
    assert DataKey.objects.get(pk=data_key.pk).destroyed_at is None


def test_a_missing_ledger_is_an_error_not_an_empty_ledger(ledger_file):
    with pytest.raises(CommandError, match="n'existe pas"):
        replay()


def test_production_requires_an_absolute_ledger_path():
    missing = run_manage(production_environ(DMP_SHRED_LEDGER_PATH=None), "check")
    assert missing.returncode != 0 and "DMP_SHRED_LEDGER_PATH" in missing.stderr
    relative = run_manage(production_environ(DMP_SHRED_LEDGER_PATH="var/ledger.log"), "check")
    assert relative.returncode != 0 and "must be an absolute path" in relative.stderr
