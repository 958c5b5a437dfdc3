"""Encrypted fields: random nonces, binding to table, column, row and owner, tamper detection."""

from __future__ import annotations

import logging

import pytest
from django.db import connection, transaction

from dmp_portal.crypto.datakeys import create_data_key, destroy_data_key
from dmp_portal.crypto.errors import DecryptionError
from dmp_portal.crypto.fields import is_destroyed
from tests.crypto_specimens.models import Specimen

pytestmark = pytest.mark.django_db


def raw(specimen: Specimen, column: str) -> bytes:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {column} FROM crypto_specimens_specimen WHERE id = %s",  # noqa: S608
            [specimen.pk],
        )
        return bytes(cursor.fetchone()[0])


def set_raw(specimen: Specimen, column: str, value: bytes) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE crypto_specimens_specimen SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, specimen.pk],
        )


def reload(specimen: Specimen) -> Specimen:
    return Specimen.objects.select_related("data_key").get(pk=specimen.pk)


@pytest.fixture
def owner_key():
    return create_data_key("patient")


def test_values_round_trip_through_every_kind_of_field(owner_key):
    specimen = Specimen.objects.create(
        data_key=owner_key,
        text="Compte rendu d'IRM",
        payload={"lignes": ["3 RUE DES LILAS"]},
        blob=b"\x00\xffbinary",
    )
    loaded = reload(specimen)
    assert loaded.text == "Compte rendu d'IRM"
    assert loaded.payload == {"lignes": ["3 RUE DES LILAS"]}
    assert loaded.blob == b"\x00\xffbinary"
    assert loaded.other_text is None


def test_the_same_value_encrypted_twice_differs(owner_key):
    first = Specimen.objects.create(
        data_key=owner_key, text="même valeur", other_text="même valeur"
    )
    assert raw(first, "text") != raw(first, "other_text")
    first.text = "même valeur"
    first.save()
    second = Specimen.objects.create(data_key=owner_key, text="même valeur")
    assert raw(first, "text") != raw(second, "text")


def test_saving_an_unchanged_row_does_not_rewrite_its_ciphertext(owner_key):
    specimen = Specimen.objects.create(data_key=owner_key, text="stable")
    before = raw(specimen, "text")
    loaded = reload(specimen)
    assert loaded.text == "stable"
    loaded.save()
    assert raw(specimen, "text") == before


def test_a_ciphertext_moved_to_another_row_is_refused(owner_key):
    victim = Specimen.objects.create(data_key=owner_key, text="diagnostic A")
    other = Specimen.objects.create(data_key=owner_key, text="diagnostic B")
    set_raw(other, "text", raw(victim, "text"))
    with pytest.raises(DecryptionError):
        reload(other).text  # noqa: B018


def test_a_ciphertext_moved_to_another_column_is_refused(owner_key):
    specimen = Specimen.objects.create(data_key=owner_key, text="titre", other_text="autre")
    set_raw(specimen, "other_text", raw(specimen, "text"))
    with pytest.raises(DecryptionError):
        reload(specimen).other_text  # noqa: B018


def test_a_ciphertext_moved_to_another_patient_is_refused(owner_key):
    victim = Specimen.objects.create(data_key=owner_key, text="secret de Léa")
    attacker = Specimen.objects.create(data_key=create_data_key("patient"), text="x")
    set_raw(attacker, "text", raw(victim, "text"))
    with pytest.raises(DecryptionError):
        reload(attacker).text  # noqa: B018
    # Even with the header's key id rewritten to the attacker's key, the owner binding holds.
    forged = bytearray(raw(victim, "text"))
    forged[1:9] = attacker.data_key.pk.to_bytes(8, "big")
    set_raw(attacker, "text", bytes(forged))
    with pytest.raises(DecryptionError):
        reload(attacker).text  # noqa: B018


@pytest.mark.parametrize("position", [0, 5, 12, 30, -1])
def test_one_flipped_byte_is_refused(owner_key, position):
    specimen = Specimen.objects.create(data_key=owner_key, text="résultat de biologie")
    tampered = bytearray(raw(specimen, "text"))
    tampered[position] ^= 0x01
    set_raw(specimen, "text", bytes(tampered))
    with pytest.raises(DecryptionError):
        reload(specimen).text  # noqa: B018


def test_a_refused_decryption_is_logged_as_a_security_event_without_data(owner_key, caplog):
    specimen = Specimen.objects.create(data_key=owner_key, text="ne pas divulguer")
    tampered = bytearray(raw(specimen, "text"))
    tampered[-1] ^= 0x01
    set_raw(specimen, "text", bytes(tampered))
    with caplog.at_level(logging.ERROR, logger="dmp.security"), pytest.raises(DecryptionError):
        reload(specimen).text  # noqa: B018
    assert any(str(specimen.uid) in record.getMessage() for record in caplog.records)
    assert all("divulguer" not in record.getMessage() for record in caplog.records)


def test_encrypted_columns_cannot_be_searched_or_bulk_updated(owner_key):
    Specimen.objects.create(data_key=owner_key, text="abc")
    with transaction.atomic(), pytest.raises(TypeError, match="encrypted"):
        list(Specimen.objects.filter(text="abc"))
    with transaction.atomic(), pytest.raises(TypeError, match="encrypted"):
        Specimen.objects.update(text="written in clear")
    assert Specimen.objects.filter(text__isnull=False).count() == 1
    assert reload(Specimen.objects.get()).text == "abc"


def test_crypto_shredding_reports_values_as_destroyed(owner_key):
    kept_key = create_data_key("patient")
    shredded = Specimen.objects.create(data_key=owner_key, text="à détruire", blob=b"x")
    kept = Specimen.objects.create(data_key=kept_key, text="à garder")
    destroy_data_key(owner_key)
    loaded = reload(shredded)
    assert is_destroyed(loaded.text) and is_destroyed(loaded.blob)
    assert str(loaded.text) == "[données détruites]"
    assert reload(kept).text == "à garder"
