"""/access/: the readers' table names each practitioner as the directory's search does, and its
heading is said once."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from access_control.models import AccessRequest, EmergencyAccess
from accounts.models import Profession
from tests.access_control.factories import enrolled_patient, grant
from tests.accounts.factories import PractitionerProfileFactory

pytestmark = pytest.mark.django_db

HEADING = "Professionnels autorisés à lire mon dossier"


def _readers_rows(page: str) -> list[str]:
    table = re.search(r'<table[^>]*data-testid="readers".*?</table>', page, re.S)
    assert table is not None
    body = re.split(r"<tbody[^>]*>", table.group(0))[1]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    # Inline tags join their words; cells are apart.
    texts = (re.sub(r"<[^>]+>", " ", re.sub(r"</?strong>", "", row)) for row in rows)
    return [" ".join(html.unescape(text).split()) for text in texts]


def test_two_namesakes_are_told_apart_among_the_readers():
    lyon = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Lyon", specialty="Médecine générale"
    )
    brest = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Brest", specialty="Cardiologie"
    )
    nurse = PractitionerProfileFactory.create(
        last_name="Roux", first_name="Paul", profession=Profession.INFIRMIER, specialty="", city=""
    )
    _patient, client, _nir = enrolled_patient()
    for profile in (lyon, brest, nurse):
        assert grant(client, profile.rpps).status_code == 302
    rows = _readers_rows(client.get("/access/").content.decode())
    expected = {
        f"Dr Claire Martin, Médecin (Médecine générale), Lyon, RPPS {lyon.rpps}",
        f"Dr Claire Martin, Médecin (Cardiologie), Brest, RPPS {brest.rpps}",
        f"Paul Roux, Infirmier, RPPS {nurse.rpps}",
    }
    assert {next(name for name in expected if row.startswith(name)) for row in rows} == expected
    assert len(rows) == 3


def test_the_readers_heading_is_said_once_and_names_the_table():
    profile = PractitionerProfileFactory.create()
    _patient, client, _nir = enrolled_patient()
    grant(client, profile.rpps)
    page = client.get("/access/").content.decode()
    assert page.count(HEADING) == 1
    heading = re.search(rf'<h2 id="([\w-]+)">{HEADING}</h2>', page)
    assert heading is not None
    table = re.search(r'<table[^>]*data-testid="readers"[^>]*>', page)
    assert table is not None and f'aria-labelledby="{heading.group(1)}"' in table.group(0)
    assert "<caption" not in page.split('data-testid="readers"')[1].split("</table>")[0]


def test_blocks_and_requests_name_the_practitioner_the_same_way():
    lyon = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Lyon", specialty="Médecine générale"
    )
    brest = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Brest", specialty="Cardiologie"
    )
    patient, client, _nir = enrolled_patient()
    AccessRequest.objects.create(patient=patient, practitioner=brest.user)
    assert client.post("/access/blocks/", {"block-rpps": lyon.rpps}).status_code == 302
    page = client.get("/access/").content.decode()
    blocked = page.split("Professionnels bloqués")[1].split("</ul>")[0]
    assert (
        f"<strong>Dr Claire Martin</strong>, Médecin (Médecine générale), Lyon, RPPS {lyon.rpps}"
        in blocked
    )
    assert brest.rpps not in blocked
    asked = re.search(r"<li>Demandé le .*?</li>", page, re.S)
    assert asked is not None
    assert (
        f"<strong>Dr Claire Martin</strong>, Médecin (Cardiologie), Brest, RPPS {brest.rpps}"
        in asked.group(0)
    )


def test_the_treating_physician_and_emergencies_name_the_practitioner_the_same_way():
    physician = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Lyon", specialty="Médecine générale"
    )
    urgentist = PractitionerProfileFactory.create(
        last_name="Martin", first_name="Claire", city="Brest", specialty="Médecine d'urgence"
    )
    patient, client, _nir = enrolled_patient()
    assert (
        client.post("/access/treating-physician/", {"md-rpps": physician.rpps}).status_code == 302
    )
    EmergencyAccess.objects.create(
        patient=patient,
        practitioner=urgentist.user,
        reason="Patiente inconsciente aux urgences.",
        ends_at=timezone.now() - timedelta(minutes=5),
    )
    page = html.unescape(client.get("/access/").content.decode())
    assert (
        f"<p><strong>Dr Claire Martin</strong>, Médecin (Médecine générale), Lyon, "
        f"RPPS {physician.rpps}. "
    ) in page
    emergencies = page.split('aria-labelledby="emergencies-heading"')[1].split("</table>")[0]
    assert (
        f"<strong>Dr Claire Martin</strong>, Médecin (Médecine d'urgence), Brest, "
        f"RPPS {urgentist.rpps}"
    ) in emergencies
