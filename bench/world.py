"""The small world the benchmarks measure, built with the portal's own models and services.

The benchmarks never import the test suite (import-linter holds it): what they need is here,
written the way the portal writes it. The tests build with the same functions (their factories
import this module), so that a shortcut such as ``verified_client`` exists once. Import this
module after ``django.setup()``.
"""

from __future__ import annotations

import io
import itertools
import secrets
import time
from datetime import date, timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.files.storage import default_storage
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from stdnum.fr import nir as stdnum_nir

from accounts.devices import TOTPDevice
from accounts.http import complete_login, log_in_first_factor
from accounts.middleware import SessionTimeoutMiddleware
from accounts.models import User, UserKind
from accounts.services.keys import ensure_data_key
from audit.models import AuditChain, AuditEvent, patient_chain_key
from dmp_portal.crypto.files import save_encrypted
from enrollment.models import Beneficiary
from enrollment.services.registry import import_beneficiaries
from records.models import Category, Document, SearchToken
from records.search_tokens import index_title, tokens_of
from records.services import upload_document

_serial = itertools.count(1)


# --- People and their second factor ----------------------------------------------------------


def new_patient() -> User:
    """A patient account with a data key (no password: the benchmarks log in by session)."""
    patient = User.objects.create_user(f"bench-{secrets.token_hex(6)}", kind=UserKind.PATIENT)
    ensure_data_key(patient)
    return patient


def add_totp(user: User) -> TOTPDevice:
    """A confirmed authenticator app for ``user``, as after the second-factor setup."""
    device = TOTPDevice.create_for(user)
    device.confirmed = True
    device.save()
    return device


def totp_token(device: TOTPDevice, at: float | None = None, offset_steps: int = 0) -> str:
    """The code the authenticator app shows now (or at the time ``at``), ``offset_steps``
    steps later."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, 0, device.digits, 0)
    totp.time = (at if at is not None else time.time()) + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def verified_client(user: User, device: TOTPDevice | None = None) -> Client:
    """A test client past both factors for ``user`` with ``device`` (a new authenticator app
    when none is given), left as the login page's two steps leave it, without the forms (no
    throttle, no code used up).

    Each write is the portal's own, replayed in order on one request: the password step's
    login (a new session id, a new CSRF token), the session's start and last-seen times that
    the next request sets (accounts.middleware), the code step's writes (the verified device,
    a new session id, the "known browser" cookie), then what the session and CSRF middleware
    write on the way out (the session saved, its cookie and the CSRF cookie).
    tests/accounts/test_login.py checks that the session's keys and the cookies' names are
    those of the real two steps."""
    device = device if device is not None else add_totp(user)
    request = HttpRequest()
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()  # as the authentication middleware hands the password step
    response = HttpResponse()

    def answer(_request: HttpRequest) -> HttpResponse:
        return response

    log_in_first_factor(request, user)
    SessionTimeoutMiddleware(answer)(request)
    complete_login(request, response, user, device)
    SessionMiddleware(answer).process_response(request, response)
    CsrfViewMiddleware(answer).process_response(request, response)
    client = Client()
    client.cookies.update(response.cookies)
    return client


# --- Documents -------------------------------------------------------------------------------

PDF_PAGE = b"<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Contents 3 0 R%s>>"
PDF_CONTENT = b"BT /F1 12 Tf 72 720 Td (Compte rendu) Tj ET"


def build_pdf(
    objects: list[bytes], *, catalog_extra: bytes = b"", page_extra: bytes = b""
) -> bytes:
    """A one-page PDF (objects 1 to 4: catalog, pages, content, page) followed by ``objects``
    (numbered from 5), with a classic cross-reference table and computed offsets, so that it
    parses strictly (uploads are parsed: records/pdf_checks.py). ``catalog_extra`` and
    ``page_extra`` are added inside the catalog's and the page's dictionaries."""
    content = b"<</Length %d>>stream\n%s\nendstream" % (len(PDF_CONTENT) + 1, PDF_CONTENT)
    bodies = [
        b"<</Type/Catalog/Pages 2 0 R%s>>" % catalog_extra,
        b"<</Type/Pages/Kids[4 0 R]/Count 1>>",
        content,
        PDF_PAGE % page_extra,
        *objects,
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    return bytes(out)


def upload(patient: User, title: str, content: bytes | None = None) -> Document:
    """The patient's own upload, through the upload service (checks and encryption included)."""
    return upload_document(
        patient,
        patient,
        title=title,
        category=Category.objects.get(code="imagerie"),
        act_date=date(2026, 3, 12),
        upload=io.BytesIO(content if content is not None else build_pdf([])),
    )


def stored_document(
    patient: User,
    *,
    title: str,
    act_date: date | str,
    content: bytes,
    author: User | None = None,
    category: str = "imagerie",
) -> Document:
    """A document written straight to the record and its encrypted file, without the upload
    service's checks of the content (for synthetic files of a chosen size, and for
    practitioners' documents, which the upload service writes only through the consent
    rules). ``author``: the patient when none is given."""
    ensure_data_key(patient)
    document = Document(
        patient=patient,
        data_key=patient.data_key,
        author=author or patient,
        title=title,
        category=Category.objects.get(code=category),
        act_date=act_date,
        media_type="application/pdf",
        extension=".pdf",
        size=len(content),
    )
    document.file_name, _size = save_encrypted(
        default_storage,
        f"records/{document.uid}.bin",
        io.BytesIO(content),
        document.data_key,
        document.file_aad(),
    )
    document.save()
    index_title(document)
    return document


def add_documents(patient: User, count: int, author: User | None = None) -> None:
    """Rows only, encrypted by the fields as usual, in one bulk insert (no files needed);
    ``author``: the patient when none is given."""
    categories = list(Category.objects.all())
    start = date(2020, 1, 1)
    documents = Document.objects.bulk_create(
        [
            Document(
                patient=patient,
                data_key=patient.data_key,
                category=categories[index % len(categories)],
                title=f"Compte rendu {index}",
                act_date=start + timedelta(days=index % 2000),
                author=author or patient,
                media_type="application/pdf",
                extension=".pdf",
                size=100,
                file_name=f"records/growth-{index}.bin",
            )
            for index in range(count)
        ],
        batch_size=1000,
    )
    SearchToken.objects.bulk_create(tokens_of(documents), batch_size=5000)


def add_events(patient: User, documents: list[Document]) -> None:
    """One past "view" event per document: history rows that name documents (their MACs are
    not computed: the benchmark reads the history, it does not verify the trail)."""
    chain, _ = AuditChain.objects.get_or_create(key=patient_chain_key(patient.pk), patient=patient)
    first = chain.last_sequence + 1
    now = timezone.now()
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(
                chain=chain,
                sequence=first + index,
                occurred_at=now - timedelta(minutes=len(documents) - index),
                actor=patient,
                actor_role="patient",
                patient=patient,
                document_uid=document.uid,
                action="view",
                outcome="allowed",
                reason="own-record",
                previous_mac="0" * 64,
                mac="0" * 64,
            )
            for index, document in enumerate(documents)
        ]
    )
    AuditChain.objects.filter(pk=chain.pk).update(last_sequence=first + len(documents) - 1)


# --- The registry of insured people ----------------------------------------------------------


def _nir(born: date) -> str:
    """A valid NIR, a new one at each call (serial and commune vary)."""
    number = next(_serial)
    body = f"1{born:%y}{born:%m}78{number // 1000 % 900 + 1:03d}{number % 1000:03d}"
    return body + stdnum_nir.calc_check_digits(body)


def registry_people(count: int) -> list[Beneficiary]:
    """``count`` insured people, imported through the registry import service as a CSV would
    bring them (one data key each, everything encrypted)."""
    born = date(1985, 5, 14)
    nirs = [_nir(born) for _index in range(count)]
    report = import_beneficiaries(
        (
            line,
            {
                "nir": nir,
                "last_name": "Dupont",
                "first_name": "Léa",
                "birth_date": born.isoformat(),
                "delivery_point": "Appartement 12",
                "building": "Résidence Les Tilleuls",
                "street": "3 rue des Lilas",
                "locality": "",
                "postcode": "75015",
                "city": "Paris",
                "country": "",
                "regime": "general",
            },
        )
        for line, nir in enumerate(nirs, start=2)
    )
    if report.rejected:
        raise SystemExit(f"the registry refused bench rows: {report.rejected[:3]}")
    return list(Beneficiary.objects.order_by("-pk")[:count])
