"""``manage.py backup`` and ``restore`` (issue 18, item 3): what a backup holds and never holds,
and every bad input refused in French with nothing changed. The whole round trip (backup,
destroy, restore, verify) is the drill ``tests/drills/test_backup_restore.py``."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command

from dmp_portal.crypto.keyring import parse_master_keys
from records.models import Document
from tests.accounts.factories import UserFactory
from tests.records.factories import PDF, add_document
from tests.storage_backends import local_disk_only

pytestmark = pytest.mark.django_db(transaction=True)  # pg_dump reads what is committed


@pytest.fixture
def ledger_file(settings, tmp_path) -> Path:
    path = tmp_path / "ledger" / "destroyed-keys.log"
    path.parent.mkdir()
    path.touch()
    settings.DMP_SHRED_LEDGER_PATH = str(path)
    return path


@pytest.fixture
def pg_restore() -> str:
    found = (
        shutil.which("pg_restore")
        or sorted(str(path) for path in Path("/usr/lib/postgresql").glob("*/bin/pg_restore"))[-1]
    )
    return found


def test_the_backup_folder_is_the_operator_s_alone(backed_up):
    outdir, _document = backed_up
    assert outdir.stat().st_mode & 0o777 == 0o700


@pytest.fixture
def backed_up(tmp_path) -> tuple[Path, Document]:
    document = add_document(UserFactory.create())
    outdir = tmp_path / "backup"
    call_command("backup", str(outdir), stdout=StringIO(), stderr=StringIO())
    return outdir, document


def manifest_of(outdir: Path) -> dict:
    return json.loads((outdir / "manifest.json").read_text())


def restore(indir: Path) -> str:
    out = StringIO()
    call_command("restore", str(indir), stdout=out, stderr=StringIO())
    return out.getvalue()


def state() -> tuple[int, list[str]]:
    """What a refused restore must leave as it was: the rows and the stored files."""
    return Document.objects.count(), sorted(Document.objects.values_list("file_name", flat=True))


def test_every_stored_file_column_names_a_field():
    for entry in settings.DMP_BACKUP_STORED_FILES:
        label, field = entry.rsplit(".", 1)
        assert apps.get_model(label)._meta.get_field(field).max_length == 255


def test_a_backup_holds_the_dump_and_the_stored_ciphertext_with_their_hashes(backed_up):
    outdir, document = backed_up
    manifest = manifest_of(outdir)
    assert manifest["format"] == "dmp-portal-backup/1"
    assert manifest["created_at"].endswith("Z")
    # The snapshot's time is the backup's recovery point: taken first, in UTC.
    assert manifest["database"]["snapshot_at"] <= manifest["created_at"]
    assert manifest["database"]["snapshot_at"].endswith("Z")
    dump = (outdir / "database.dump").read_bytes()
    assert dump.startswith(b"PGDMP")  # pg_dump's custom format
    assert manifest["database"]["sha256"] == hashlib.sha256(dump).hexdigest()
    assert "0001_initial" in manifest["database"]["migrations"]["records"]
    [entry] = [f for f in manifest["files"] if f["name"] == document.file_name]
    copied = (outdir / "files" / document.file_name).read_bytes()
    with default_storage.open(document.file_name, "rb") as stored:
        assert copied == stored.read()  # the ciphertext as stored, never decrypted
    assert PDF[:200] not in copied
    assert entry["sha256"] == hashlib.sha256(copied).hexdigest()
    assert manifest["missing_files"] == []


def test_a_backup_never_holds_a_key(backed_up, pg_restore):
    outdir, _document = backed_up
    written = b"".join(path.read_bytes() for path in outdir.rglob("*") if path.is_file())
    # The custom-format dump is compressed: read it back as the SQL it holds.
    written += subprocess.run(
        [pg_restore, "--file=-", str(outdir / "database.dump")],
        capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert b"COPY public.records_document" in written
    keys = [settings.DMP_BLIND_INDEX_KEY.encode(), settings.SECRET_KEY.encode()]
    keys.append(settings.DMP_AUDIT_SIGNING_KEY.encode())
    for master in parse_master_keys(settings.DMP_MASTER_KEYS):
        keys.append(master.material)
    keys += [entry.split(":", 1)[1].encode() for entry in settings.DMP_MASTER_KEYS.split(",")]
    for key in keys:
        assert key not in written


def test_a_folder_not_empty_is_refused_and_nothing_is_written(tmp_path):
    outdir = tmp_path / "taken"
    outdir.mkdir()
    (outdir / "notes.txt").write_text("à garder\n")
    with pytest.raises(CommandError, match="existe déjà et n'est pas vide") as raised:
        call_command("backup", str(outdir), stdout=StringIO(), stderr=StringIO())
    assert "Rien n'a été écrit" in str(raised.value)
    assert [path.name for path in outdir.iterdir()] == ["notes.txt"]


def test_a_changed_file_is_refused_naming_it_and_nothing_is_restored(backed_up, ledger_file):
    outdir, document = backed_up
    copy = outdir / "files" / document.file_name
    copy.write_bytes(copy.read_bytes()[:-1] + b"\x00")
    before = state()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    message = str(raised.value)
    assert "ne correspond pas à son manifeste" in message and "Rien n'a été restauré" in message
    assert f"modifiés : files/{document.file_name}" in message
    assert state() == before


def test_a_missing_file_is_refused_naming_it(backed_up, ledger_file):
    outdir, _document = backed_up
    (outdir / "database.dump").unlink()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    assert "manquants : database.dump" in str(raised.value)


def test_a_manifest_missing_is_refused(backed_up, ledger_file):
    outdir, _document = backed_up
    (outdir / "manifest.json").unlink()
    with pytest.raises(CommandError, match="n'est pas une sauvegarde complète"):
        restore(outdir)


def test_a_database_holding_the_portal_is_refused(backed_up, ledger_file):
    outdir, _document = backed_up
    before = state()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    message = str(raised.value)
    assert "contient déjà les tables du portail" in message
    assert "une base neuve et vide" in message and "Rien n'a été restauré" in message
    assert state() == before


def test_a_missing_ledger_stops_the_restore_before_anything(backed_up, settings, tmp_path):
    outdir, _document = backed_up
    settings.DMP_SHRED_LEDGER_PATH = str(tmp_path / "nowhere" / "destroyed-keys.log")
    before = state()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    message = str(raised.value)
    assert "Le registre des clés détruites" in message and "n'existe pas" in message
    assert "Rien n'a été restauré" in message
    assert state() == before


def test_a_name_leaving_the_backup_folder_is_refused(backed_up, ledger_file):
    outdir, _document = backed_up
    manifest = manifest_of(outdir)
    manifest["files"][0]["name"] = "../../etc/passwd"
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(CommandError, match="n'est pas admis"):
        restore(outdir)


def test_a_backup_of_a_newer_version_is_refused(backed_up, ledger_file):
    outdir, _document = backed_up
    manifest = manifest_of(outdir)
    manifest["database"]["migrations"]["records"].append("9999_from_the_future")
    (outdir / "manifest.json").write_text(json.dumps(manifest))
    before = state()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    assert "version plus récente du portail" in str(raised.value)
    assert "records.9999_from_the_future" in str(raised.value)
    assert state() == before


def test_a_storage_holding_other_content_under_a_backed_up_name_is_refused(backed_up, ledger_file):
    outdir, document = backed_up
    default_storage.delete(document.file_name)
    assert default_storage.save(document.file_name, ContentFile(b"other")) == document.file_name
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    message = str(raised.value)
    assert "Le stockage contient déjà d'autres fichiers" in message
    assert document.file_name in message and "Rien n'a été restauré" in message
    with default_storage.open(document.file_name, "rb") as stored:
        assert stored.read() == b"other"  # left as it was


@local_disk_only
def test_a_storage_that_cannot_be_read_is_refused_before_anything(
    backed_up, ledger_file, settings, tmp_path
):
    """A file stands where the storage's `records` folder goes (refused even to root)."""
    outdir, _document = backed_up
    blocked = tmp_path / "blocked-media"
    blocked.mkdir()
    (blocked / "records").write_text("not a folder")
    settings.MEDIA_ROOT = str(blocked)
    before = state()
    with pytest.raises(CommandError) as raised:
        restore(outdir)
    message = str(raised.value)
    assert "Le stockage ne peut pas être lu" in message and "Rien n'a été restauré" in message
    assert state() == before
    assert sorted(path.name for path in blocked.iterdir()) == ["records"]
