"""In the browser: the patient downloads a copy of their record from /records/, after a wrong
code then the right one; the download is a ZIP holding the documents, index.html and the FHIR
Bundle, and index.html reads offline (no request leaves the file, axe at 0)."""

from __future__ import annotations

import json
import zipfile
from datetime import date
from urllib.parse import unquote

from django.utils import timezone
from playwright.sync_api import expect

from bench.world import stored_document
from tests.accounts.factories import PASSWORD, UserFactory, add_totp, next_totp_token, totp_token
from tests.e2e.browser import (
    ARTIFACTS,
    axe_violations,
    fill_by_keyboard,
    horizontal_overflow,
    tab_to,
)
from tests.e2e.layout import check_every_width
from tests.e2e.steps import expect_error, follow, log_in, one_page_pdf


def test_the_patient_downloads_a_copy_of_their_record(site, new_page, inspector, tmp_path):
    patient = UserFactory(kind="patient")
    patient.ensure_data_key()
    device = add_totp(patient)
    stored_document(
        patient,
        title="Compte rendu d'IRM",
        act_date=date(2026, 3, 12),
        content=one_page_pdf("IRM du genou"),
    )
    stored_document(
        patient,
        title="Ordonnance",
        act_date=date(2026, 2, 1),
        content=one_page_pdf("Ordonnance"),
        category="traitements",
    )
    page = inspector.watch(new_page())
    log_in(page, inspector, site, patient.username, PASSWORD, totp_token(device))
    inspector.check(page, "home")
    page.goto(site + "/records/")
    inspector.check(page, "record")
    follow(page, page.get_by_role("link", name="Télécharger une copie de mon dossier"))
    inspector.check(page, "export")
    check_every_width(page, "export page")

    # A wrong code: the page again, with its message; nothing is downloaded.
    fill_by_keyboard(page, {"otp_token": "000000"})
    expect_error(page, "Ce code n'est pas valide")
    inspector.check(page, "export-wrong-code")

    fill_by_keyboard(page, {"otp_token": next_totp_token(device)}, submit=False)
    tab_to(page, page.get_by_role("button", name="Télécharger la copie (fichier ZIP)"))
    with page.expect_download() as download_info:
        page.keyboard.press("Enter")
    download = download_info.value
    assert download.suggested_filename == (f"dossier-medical-{timezone.localdate():%Y-%m-%d}.zip")
    target = tmp_path / download.suggested_filename
    download.save_as(target)
    with zipfile.ZipFile(target) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "copy")
    assert sorted(names) == [
        "documents/imagerie/2026-03-12-Compte rendu d'IRM.pdf",
        "documents/traitements/2026-02-01-Ordonnance.pdf",
        "dossier.fhir.json",
        "index.html",
    ]
    bundle = json.loads((tmp_path / "copy" / "dossier.fhir.json").read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"

    # The summary, opened from the disk: nothing fetched, readable, accessible.
    offline = new_page()
    requests: list[str] = []
    offline.on("request", lambda request: requests.append(request.url))
    offline.goto((tmp_path / "copy" / "index.html").as_uri())
    expect(offline.get_by_role("heading", name="Mon Dossier Médical Partagé")).to_be_visible()
    link = offline.get_by_role("link", name="documents/imagerie/2026-03-12-Compte rendu d'IRM.pdf")
    expect(link).to_be_visible()
    # Each link opens its file beside index.html, whatever the characters of its title.
    href = link.get_attribute("href") or ""
    assert (tmp_path / "copy" / unquote(href)).read_bytes() == (
        tmp_path / "copy" / "documents/imagerie/2026-03-12-Compte rendu d'IRM.pdf"
    ).read_bytes()
    assert href != "documents/imagerie/2026-03-12-Compte rendu d'IRM.pdf"  # escaped for a URL
    assert axe_violations(offline) == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    offline.screenshot(path=ARTIFACTS / f"{inspector.name}-index.png", full_page=True)
    offline.set_viewport_size({"width": 320, "height": 640})
    assert horizontal_overflow(offline) == 0
    assert [url for url in requests if not url.startswith("file://")] == []
