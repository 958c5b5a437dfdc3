"""Issue 19's acceptance, played end to end: a practitioner's software connects to the portal
and works on a record through the FHIR API, until the patient takes their consent back.

The software is this test: it registers (as staff would, in the admin), opens the
authorization request with PKCE (S256) in Chromium, where the practitioner signs in with their
password and second factor and approves; it catches the redirect on its loopback address
(a listener of its own, as a desktop software does: RFC 8252), exchanges the code with its
verifier, then calls the API over HTTP (urllib) against the live server: Patient search, the
record's documents, a file (the bytes uploaded), a new document. The patient then revokes the
consent on their web page, and the very next call is refused. The patient's access history
shows every call with « via <the application's name> ».
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from types import SimpleNamespace
from urllib.parse import parse_qs, urlencode, urlparse

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.documentreference import DocumentReference
from oauth2_provider.models import Application

from access_control.services import grant_consent
from audit.models import AuditEvent
from records.models import Document
from tests.accounts.factories import (
    PASSWORD,
    PractitionerProfileFactory,
    UserFactory,
    add_totp,
    totp_token,
)
from tests.e2e.browser import fill_by_keyboard
from tests.e2e.steps import follow, log_in, one_page_pdf
from tests.enrollment.factories import make_beneficiary, make_nir
from tests.records.factories import add_document

APP_NAME = "Logiciel du cabinet Pasteur"
SCOPES = (
    "user/Patient.read user/DocumentReference.read user/DocumentReference.write user/Binary.read"
)
NIR = make_nir(born=date(1979, 11, 3))
NIR_SYSTEM = "urn:oid:1.2.250.1.213.1.4.8"
UPLOADED = one_page_pdf("Compte rendu de coloscopie")
SENT = one_page_pdf("Ordonnance du 12 mars")


def _call(site: str, method: str, path: str, token: str, body: bytes | None = None, kind=""):
    """One call of the software: (status, content type, body)."""
    request = urllib.request.Request(site + path, data=body, method=method)  # noqa: S310
    request.add_header("Authorization", f"Bearer {token}")
    if kind:
        request.add_header("Content-Type", kind)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - live server
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


class Callback(BaseHTTPRequestHandler):
    """The software's loopback listener (RFC 8252, as a desktop software waits for the
    redirect): it keeps the address the browser was sent to, with the code."""

    received: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the standard library's name
        type(self).received.append(self.path)
        body = "<!doctype html><html lang='fr'><title>Logiciel</title><p>Connecté.</p></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args) -> None:
        return None


@contextmanager
def loopback_listener() -> Iterator[SimpleNamespace]:
    server = HTTPServer(("127.0.0.1", 0), Callback)
    Callback.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        uri = f"http://127.0.0.1:{server.server_address[1]}/callback"
        yield SimpleNamespace(uri=uri, received=Callback.received)
    finally:
        server.shutdown()
        server.server_close()


def _world(callback_uri: str):
    patient = UserFactory.create()
    person = make_beneficiary(nir=NIR, last_name="Lefèvre", first_name="Anne")
    person.patient = patient
    person.save()
    add_document(patient, title="Coloscopie", category="comptes-rendus", content=UPLOADED)
    doctor = PractitionerProfileFactory.create(last_name="Pasteur", first_name="Louise")
    grant_consent(patient, doctor.rpps)
    secret = secrets.token_urlsafe(32)
    app = Application.objects.create(
        name=APP_NAME,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=callback_uri,
        client_secret=secret,  # stored hashed; the software keeps it
    )
    return patient, add_totp(patient), doctor, add_totp(doctor.user), app, secret


def _authorize(page, inspector, site, app, doctor, device, callback) -> tuple[str, str]:
    """The practitioner approves in the browser: the code and the PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": callback.uri,
        "scope": SCOPES,
        "state": "etat-7f3a",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page.goto(f"{site}/oauth/authorize/?{urlencode(query)}")
    # Not signed in: the portal's login, which comes back to the request afterwards.
    assert "/accounts/login/" in page.url
    inspector.check(page, "login")
    fill_by_keyboard(page, {"username": doctor.user.username, "password": PASSWORD})
    inspector.check(page, "login-code")
    fill_by_keyboard(page, {"otp_token": totp_token(device)})
    assert "/oauth/authorize/" in page.url, page.url
    inspector.check(page, "consent")
    assert APP_NAME in page.content()
    follow(page, page.locator("[name=allow]"))
    (sent_back,) = [path for path in callback.received if path.startswith("/callback?")]
    params = parse_qs(urlparse(sent_back).query)
    assert params["state"] == ["etat-7f3a"]
    assert params["iss"] == [site]  # RFC 9207: who answered, against mix-up attacks
    return params["code"][0], verifier


def _token(site: str, app: Application, secret: str, code: str, verifier: str, uri: str) -> str:
    body = urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": uri,
            "code_verifier": verifier,
        }
    ).encode()
    request = urllib.request.Request(f"{site}/oauth/token/", data=body, method="POST")  # noqa: S310
    credentials = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
    request.add_header("Authorization", f"Basic {credentials}")
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - live server
        answer = json.loads(response.read())
    assert set(answer["scope"].split()) == set(SCOPES.split())
    return answer["access_token"]


def test_a_practitioners_software_through_the_api_until_consent_is_revoked(
    site, new_page, inspector
):
    with loopback_listener() as callback:
        patient, patient_device, doctor, doctor_device, app, secret = _world(callback.uri)
        # 1. Authorization code with PKCE, the practitioner's two factors and approval.
        code, verifier = _authorize(
            new_page(), inspector, site, app, doctor, doctor_device, callback
        )
    token = _token(site, app, secret, code, verifier, callback.uri)

    # 2. The patient, found by their INS (the NIR in the body, never in the address).
    status, kind, body = _call(
        site,
        "POST",
        "/fhir/Patient/_search",
        token,
        urlencode({"identifier": f"{NIR_SYSTEM}|{NIR}"}).encode(),
        "application/x-www-form-urlencoded",
    )
    assert status == 200 and kind.startswith("application/fhir+json"), body
    Bundle.model_validate(json.loads(body))
    (entry,) = json.loads(body)["entry"]
    patient_id = entry["resource"]["id"]
    assert patient_id == str(patient.pk)

    # 3. Their documents, then the file: the bytes that were uploaded.
    status, _kind, body = _call(site, "GET", f"/fhir/DocumentReference?patient={patient_id}", token)
    assert status == 200, body
    Bundle.model_validate(json.loads(body))
    (found,) = json.loads(body)["entry"]
    binary_url = found["resource"]["content"][0]["attachment"]["url"]
    status, kind, content = _call(site, "GET", urlparse(binary_url).path, token)
    assert (status, kind) == (200, "application/pdf")
    assert content == UPLOADED

    # 4. A new document from the software.
    resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "category": [{"coding": [{"system": "urn:oid:1.2.250.1.213.1.1.4.1", "code": "10"}]}],
        "type": {"coding": [{"system": "http://loinc.org", "code": "11502-2"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "context": {"period": {"start": "2026-03-12"}},
        "description": "Bilan biologique",
        "content": [
            {
                "attachment": {
                    "contentType": "application/pdf",
                    "data": base64.b64encode(SENT).decode(),
                }
            }
        ],
    }
    status, _kind, body = _call(
        site,
        "POST",
        "/fhir/DocumentReference",
        token,
        json.dumps(resource).encode(),
        "application/fhir+json",
    )
    assert status == 201, body
    DocumentReference.model_validate(json.loads(body))
    created = Document.objects.get(uid=json.loads(body)["id"])
    assert (created.patient, created.author, created.category.code) == (
        patient,
        doctor.user,
        "biologie",
    )
    # Read back as any other document: the file is the one sent.
    status, _kind, body = _call(site, "GET", f"/fhir/Binary/{created.uid}", token)
    assert (status, body) == (200, SENT)

    # 5. The patient takes the consent back on their page; the very next call is refused.
    me = new_page()
    log_in(me, inspector, site, patient.username, PASSWORD, totp_token(patient_device), "me")
    me.goto(site + "/access/")
    inspector.check(me, "consents")
    follow(me, me.get_by_role("button", name="Retirer l'accès"))
    inspector.check(me, "consent-revoked")
    status, kind, body = _call(site, "GET", f"/fhir/DocumentReference?patient={patient_id}", token)
    assert status == 404 and kind.startswith("application/fhir+json"), (status, body)
    assert json.loads(body)["resourceType"] == "OperationOutcome"

    # 6. The history names the application on every call: the search, the list, the files, the
    # new document and the refused call.
    calls = AuditEvent.objects.filter(patient=patient, actor=doctor.user)
    assert calls.count() >= 6
    assert set(calls.values_list("application", flat=True)) == {app.client_id}
    me.goto(site + "/access/history/")
    inspector.check(me, "history")
    rows = me.locator("tr", has_text=f"via {APP_NAME}")
    assert rows.count() == calls.count(), me.locator("main").inner_text()
