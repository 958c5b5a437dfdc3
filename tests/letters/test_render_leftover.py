"""A letter whose earlier rendering left its file behind (its worker killed, or its commit
failed, after the write) is rendered again under its own name: the leftover, which no row
names, is replaced rather than kept beside a suffixed copy."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import override_settings

from dmp_portal.crypto.datakeys import create_data_key
from dmp_portal.crypto.files import open_decrypted
from letters.models import Letter, LetterState
from letters.services import RenderedLetter, render

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4 the letter itself"


def build_letter(letter: Letter) -> RenderedLetter:
    return RenderedLetter(
        pdf=PDF, page_count=1, postal={"postcode": "75001", "city": "Paris", "country": ""}
    )


def test_a_leftover_of_an_earlier_rendering_gives_way_to_the_letter():
    letter = Letter.objects.create(
        kind="leftover_test", subject_uid=uuid.uuid4(), data_key=create_data_key("patient")
    )
    own_name = f"letters/{letter.uid}.pdf"
    assert default_storage.save(own_name, ContentFile(b"left by a killed worker")) == own_name
    builders = {**settings.LETTER_BUILDERS, "leftover_test": f"{__name__}.build_letter"}
    with override_settings(LETTER_BUILDERS=builders):
        assert render(letter.pk) is True
    letter.refresh_from_db()
    assert letter.state == LetterState.RENDERED
    assert letter.pdf_name == own_name
    data_key = letter.data_key
    assert data_key is not None
    assert b"".join(open_decrypted(default_storage, own_name, data_key, letter.pdf_aad())) == PDF
    directory, files = default_storage.listdir("letters")
    assert [name for name in files if name.startswith(str(letter.uid))] == [f"{letter.uid}.pdf"]
