"""A software authenticator for the tests: what a phone or a security key does, in Python.

It makes a P-256 key pair, answers the portal's registration and login challenges with the
JSON that ``static/js/passkeys.js`` posts (base64url fields), and counts its signatures like
a real authenticator. ``add_passkey`` registers one straight in the database (as after the
security page), for the tests that need a staff member past the passkey step;
``staff_enrolment_code`` is the one-time code an operator gives a staff member for their first
key, for the tests that register it through the security page; the browser
tests hand its private key to Chromium's virtual authenticator (``private_key_pkcs8``).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import struct
from base64 import b64encode, urlsafe_b64encode
from dataclasses import dataclass, field

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings

from accounts.models import PasskeyDevice, User
from accounts.services.passkey_enrolment import issue_enrolment_code

FLAG_USER_PRESENT = 0x01
FLAG_USER_VERIFIED = 0x04
FLAG_ATTESTED_DATA = 0x40


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class SoftAuthenticator:
    rp_id: str = field(default_factory=lambda: settings.WEBAUTHN_RP_ID)
    origin: str = field(default_factory=lambda: settings.WEBAUTHN_ORIGINS[0])
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    sign_count: int = 0

    @property
    def id(self) -> str:
        return b64url(self.credential_id)

    def cose_public_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,
                3: -7,
                -1: 1,
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )

    def private_key_pkcs8(self) -> str:
        """For Chromium's WebAuthn.addCredential (base64, not base64url)."""
        return b64encode(
            self.key.private_bytes(
                serialization.Encoding.DER,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        ).decode("ascii")

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps(
            {
                "type": kind,
                "challenge": challenge,
                "origin": origin or self.origin,
                "crossOrigin": False,
            }
        ).encode()

    def _auth_data(self, flags: int, count: int, rp_id: str | None, extra: bytes = b"") -> bytes:
        rp_hash = hashlib.sha256((rp_id or self.rp_id).encode()).digest()
        return rp_hash + bytes([flags]) + struct.pack(">I", count) + extra

    def register(self, options: dict, *, origin: str | None = None) -> dict:
        """The answer to ``navigator.credentials.create()`` with the portal's options."""
        attested = (
            bytes(16)  # AAGUID: none
            + struct.pack(">H", len(self.credential_id))
            + self.credential_id
            + self.cose_public_key()
        )
        flags = FLAG_USER_PRESENT | FLAG_USER_VERIFIED | FLAG_ATTESTED_DATA
        auth_data = self._auth_data(flags, self.sign_count, options["rp"]["id"], attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(
                    self._client_data("webauthn.create", options["challenge"], origin)
                ),
                "attestationObject": b64url(attestation),
                "transports": ["internal"],
            },
            "clientExtensionResults": {},
        }

    def sign(
        self,
        options: dict,
        *,
        origin: str | None = None,
        rp_id: str | None = None,
        count: int | None = None,
    ) -> dict:
        """The answer to ``navigator.credentials.get()``: the counter goes up by one unless
        ``count`` is given (a cloned or replaying authenticator)."""
        if count is None:
            self.sign_count += 1
            count = self.sign_count
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = self._auth_data(FLAG_USER_PRESENT | FLAG_USER_VERIFIED, count, rp_id)
        signature = self.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return {
            "id": self.id,
            "rawId": self.id,
            "type": "public-key",
            "response": {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": None,
            },
            "clientExtensionResults": {},
        }


def add_passkey(
    user: User, name: str = "Téléphone", authenticator: SoftAuthenticator | None = None
) -> tuple[PasskeyDevice, SoftAuthenticator]:
    """A registered passkey of ``user`` and the authenticator that holds its private key."""
    authenticator = authenticator or SoftAuthenticator()
    device = PasskeyDevice.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=authenticator.id,
        public_key=authenticator.cose_public_key(),
        sign_count=authenticator.sign_count,
        transports=["internal"],
    )
    return device, authenticator


def staff_enrolment_code(staff: User) -> str:
    """The one-time code an operator prints for ``staff``'s first passkey
    (``manage.py issue_passkey_enrolment``), in clear, as handed over."""
    return issue_enrolment_code(staff.username, issued_by=None)
