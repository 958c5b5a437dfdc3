"""The document page says what is true for its reader: who added the document ("you" only for
the reader's own) and who may see it, following the door's rules (issue 14, item 2)."""

from __future__ import annotations

import html
import re

import pytest
from django.test import Client

from access_control.services import designate_treating_physician
from records.models import Document
from tests.access_control.factories import enrolled_patient, grant, practitioner_with_login
from tests.records.factories import add_document

pytestmark = pytest.mark.django_db


def named(profile, last_name: str):
    profile.last_name = last_name
    profile.save(update_fields=["last_name"])
    return profile


def fact(client: Client, document: Document, label: str) -> str:
    page = client.get(f"/records/{document.uid}/").content.decode()
    match = re.search(rf"<dt>{label}</dt><dd>(.*?)</dd>", page, re.S)
    assert match, page
    return html.unescape(match.group(1)).strip()


def test_who_added_it_is_said_as_the_reader_sees_it():
    patient, client, _nir = enrolled_patient()
    author, author_client = practitioner_with_login()
    reader, reader_client = practitioner_with_login()
    named(author, "Martin")
    named(reader, "Petit")
    grant(client, author.rpps)
    grant(client, reader.rpps)
    own = add_document(patient, title="Mon auto-mesure")
    theirs = add_document(patient, title="Compte rendu", author=author.user)
    name = f"{author.first_name} {author.last_name}"

    assert fact(client, own, "Ajouté par") == "Vous"
    assert fact(client, theirs, "Ajouté par") == name
    assert fact(author_client, theirs, "Ajouté par") == "Vous"
    assert fact(author_client, own, "Ajouté par") == "Le patient"
    assert fact(reader_client, theirs, "Ajouté par") == name
    assert fact(reader_client, own, "Ajouté par") == "Le patient"


def test_who_may_see_it_is_said_in_words_true_for_the_reader():
    patient, client, _nir = enrolled_patient()
    author, author_client = practitioner_with_login()
    physician, physician_client = practitioner_with_login()
    named(author, "Martin")
    named(physician, "Bernard")
    grant(client, author.rpps)
    visible = add_document(patient, title="Radio du genou", author=author.user)
    hidden = add_document(patient, title="Compte rendu", author=author.user)
    client.post(f"/records/{hidden.uid}/hide/")
    author_name = f"{author.first_name} {author.last_name}"

    seen = fact(client, visible, "Qui peut le voir")
    assert seen.startswith("Vous, et les professionnels de santé que vous avez autorisés")
    assert "En cas d'urgence" in seen
    seen = fact(author_client, visible, "Qui peut le voir")
    assert seen.startswith("Le patient, et les professionnels de santé qu'il a autorisés")
    assert "vous avez autorisés" not in seen

    assert fact(client, hidden, "Qui peut le voir") == (
        f"Masqué aux professionnels de santé : il ne peut être vu que par vous et par"
        f" {author_name}, son auteur."
    )
    assert fact(author_client, hidden, "Qui peut le voir") == (
        "Masqué par le patient aux professionnels de santé : il ne peut être vu que par le"
        " patient et par vous, son auteur."
    )

    designate_treating_physician(patient, physician.rpps)
    physician_name = f"{physician.first_name} {physician.last_name}"
    assert fact(client, hidden, "Qui peut le voir") == (
        f"Masqué aux professionnels de santé : il ne peut être vu que par vous, par {author_name},"
        f" son auteur, et par {physician_name}, votre médecin traitant."
    )
    assert fact(physician_client, hidden, "Qui peut le voir") == (
        f"Masqué par le patient aux professionnels de santé : il ne peut être vu que par le"
        f" patient, par {author_name}, son auteur, et par vous, son médecin traitant."
    )
    assert fact(author_client, hidden, "Qui peut le voir").endswith(
        "par vous, son auteur, et par son médecin traitant."
    )


def test_the_message_after_hiding_says_who_still_sees_the_document():
    patient, client, _nir = enrolled_patient()
    author, _author_client = practitioner_with_login()
    named(author, "Martin")
    # Its author still reads the record, so still sees it (the page after the grant shows
    # the grant's own message).
    client.post("/access/", {"rpps": author.rpps}, follow=True)
    own = add_document(patient, title="Mon auto-mesure")
    theirs = add_document(patient, title="Compte rendu", author=author.user)

    page = client.post(f"/records/{theirs.uid}/hide/", follow=True)
    said = [str(message) for message in page.context["messages"]]
    assert said == [
        "Masqué aux professionnels de santé : il ne peut être vu que par vous et par"
        " Camille Martin, son auteur."
    ]
    page = client.post(f"/records/{own.uid}/hide/", follow=True)
    said = [str(message) for message in page.context["messages"]]
    assert said == ["Masqué aux professionnels de santé : il ne peut être vu que par vous."]


def test_the_file_type_is_said_in_words_and_the_download_is_named_after_the_title():
    patient, client, _nir = enrolled_patient()
    document = add_document(patient, title='Bilan 12/03 : "reins" ..\\..\\etc')
    assert fact(client, document, "Fichier").startswith("Document PDF, ")
    download = client.get(f"/records/{document.uid}/download/")
    assert download["Content-Disposition"] == (
        'attachment; filename="Bilan 12-03 - -reins- ..-..-etc.pdf"'
    )
    accented = add_document(patient, title="Échographie cardiaque")
    download = client.get(f"/records/{accented.uid}/download/")
    assert download["Content-Disposition"] == (
        "attachment; filename*=utf-8''%C3%89chographie%20cardiaque.pdf"
    )
