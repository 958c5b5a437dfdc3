"""Passkeys (WebAuthn): adding one, using one instead of the code at login, removing one.

py_webauthn (Duo's ``webauthn``) checks what the browser sends back: the challenge, the origin
of the page, the hash of the relying party's identifier (``settings.WEBAUTHN_ORIGINS`` and
``WEBAUTHN_RP_ID``), the signature, and that the signature counter went up (a lower or equal
counter betrays a cloned authenticator or a replayed assertion). This module keeps the rules
of the portal: a credential counts only for the account it was registered to, every try at
login is throttled like a typed code, a person keeps at least one second factor, and each
change is in the audit trail.

Challenges: the view keeps the one it handed out in the session and gives it back once, so an
answer to an old challenge is worth nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts.models import PasskeyDevice, TOTPDevice, User, UserKind
from accounts.services.authentication import (
    LoginRefused,
    check_setup_token,
    verify_second_factor,
)
from accounts.services.events import ALLOWED, REFUSED, record_account_event
from accounts.services.passkey_enrolment import (
    EnrolmentRefused,
    check_enrolment_code,
    needs_enrolment_code,
    use_enrolment_code,
)
from audit.models import Action

NAME_MAX_LENGTH = 64
# Errors of the library, and of reading bytes that are not base64url or CBOR.
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError)


class PasskeyRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PasskeyNotFound(Exception):
    """No such passkey among this person's: the view answers 404, as for anything not theirs."""


@dataclass(frozen=True)
class Ceremony:
    options_json: str  # what the browser passes to navigator.credentials
    challenge: str  # base64url; the view keeps it in the session until the answer comes
    # A staff member's first key: the enrolment code checked, which the next step spends (the
    # view keeps it in the session beside the challenge).
    enrolment_id: int | None = None


def registration_options(
    user: User,
    name: str,
    otp_token: str,
    *,
    session_used_passkey: bool,
    client_address: str,
    known_browser: bool,
    enrolment_code: str = "",
) -> Ceremony:
    """What the browser needs to create a passkey for ``user`` on this site. The keys already
    registered are excluded, so that one authenticator is not added twice.

    A new key is a way in for good: unless this session was opened with a passkey, the second
    factor is asked again (``otp_token``, a code of the app or a backup code, throttled like at
    login; LoginRefused when wrong), so that a session left open, or relayed once through a
    look-alike site, is not enough to add a key of one's own. The challenge, single use, is then
    the proof the code was given for this very key. ``name`` is checked now too, before the
    person goes through their authenticator.

    A staff member without any passkey also types the one-time ``enrolment_code`` they were
    given (``accounts.services.passkey_enrolment``; PasskeyRefused when not valid): a relayed
    password and code are not enough to register one's own key and open the administration."""
    clean_name(name)
    _refuse_staff_without_passkey_session(user, session_used_passkey)
    if not session_used_passkey:
        verify_second_factor(
            user, otp_token, client_address=client_address, known_browser=known_browser
        )
    enrolment_id = None
    if needs_enrolment_code(user):
        try:
            enrolment_id = check_enrolment_code(
                user, enrolment_code, client_address=client_address, known_browser=known_browser
            )
        except EnrolmentRefused as refusal:
            raise PasskeyRefused(refusal.message) from refusal
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_name=user.get_username(),
        user_id=user.pk.bytes,
        user_display_name=user.get_username(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
    )
    return Ceremony(options_to_json(options), bytes_to_base64url(options.challenge), enrolment_id)


def authentication_options(user: User) -> Ceremony:
    """What the browser needs to sign in with one of ``user``'s passkeys."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
    )
    return Ceremony(options_to_json(options), bytes_to_base64url(options.challenge))


def clean_name(name: str) -> str:
    """The name a person gives a key, so as to tell their keys apart when removing one."""
    name = " ".join(str(name).split())
    control = any(ord(character) < 32 or ord(character) == 127 for character in name)
    if not name or len(name) > NAME_MAX_LENGTH or control:
        raise PasskeyRefused(
            _(
                'Name this passkey in 1 to 64 characters, for example "Phone" or '
                '"Blue security key".'
            )
        )
    return name


@transaction.atomic
def add_passkey(
    user: User,
    name: str,
    credential: Any,
    challenge: str | None,
    *,
    client_address: str,
    session_used_passkey: bool,
    enrolment_id: int | None = None,
) -> PasskeyDevice:
    """Register the passkey the browser created (``credential``, the JSON of
    ``navigator.credentials.create()``) in answer to ``challenge`` (handed out by
    ``registration_options``, after the second factor when it asked for it), under ``name``.
    A staff member's first key spends the enrolment code checked then (``enrolment_id``)."""
    name = clean_name(name)
    User.objects.select_for_update().filter(pk=user.pk).get()  # one change of factors at a time
    _refuse_staff_without_passkey_session(user, session_used_passkey)
    if challenge is None:
        raise PasskeyRefused(_("This request has expired. Start adding the passkey again."))
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=base64url_to_bytes(challenge),
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGINS,
        )
    except _MALFORMED as error:
        raise PasskeyRefused(
            _("Your browser's answer was not accepted. Start adding the passkey again.")
        ) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if PasskeyDevice.objects.filter(credential_id=credential_id).exists():
        raise PasskeyRefused(_("This passkey is already registered."))
    if needs_enrolment_code(user):
        try:
            use_enrolment_code(user, enrolment_id)
        except EnrolmentRefused as refusal:
            raise PasskeyRefused(refusal.message) from refusal
    device = PasskeyDevice.objects.create(
        user=user,
        name=name,
        confirmed=True,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=_transports(credential),
    )
    record_account_event(
        Action.ADD_PASSKEY, ALLOWED, account=user, actor=user, client_address=client_address
    )
    return device


def verify_passkey(
    user: User, credential: Any, challenge: str | None, *, client_address: str, known_browser: bool
) -> PasskeyDevice:
    """Second factor by passkey: the device of ``user`` that signed ``challenge`` (the JSON of
    ``navigator.credentials.get()``), or LoginRefused. Counted by the same throttles as a
    typed code; a key of another account, of another site, or a counter that did not go up is
    refused like a wrong code, and recorded."""
    with transaction.atomic():
        device = _own_passkey_for_update(user, credential)
        new_count: list[int] = []

        def verify() -> bool:
            if device is None or challenge is None:
                return False
            try:
                verified = verify_authentication_response(
                    credential=credential,
                    expected_challenge=base64url_to_bytes(challenge),
                    expected_rp_id=settings.WEBAUTHN_RP_ID,
                    expected_origin=settings.WEBAUTHN_ORIGINS,
                    credential_public_key=bytes(device.public_key),
                    credential_current_sign_count=device.sign_count,
                )
            except _MALFORMED:
                return False
            new_count.append(verified.new_sign_count)
            return True

        # The code step's throttles ("otp"), which count any one verification as one try: a
        # passkey and a typed code share the same five tries.
        if check_setup_token(
            user, verify, client_address=client_address, known_browser=known_browser
        ) and (device is not None):
            device.sign_count = new_count[0]
            device.set_last_used_timestamp(commit=False)
            device.save(update_fields=["sign_count", "last_used_at"])
            record_account_event(
                Action.LOGIN_PASSKEY,
                ALLOWED,
                account=user,
                actor=user,
                client_address=client_address,
            )
            return device
    with transaction.atomic():
        # Refused: the person is not proven, so the event is in no one's name (as a wrong code).
        record_account_event(
            Action.LOGIN_PASSKEY, REFUSED, account=user, actor=None, client_address=client_address
        )
    raise LoginRefused(
        _(
            "This passkey was not accepted. Try again, or type the code shown by your "
            "authenticator app."
        )
    )


@transaction.atomic
def remove_passkey(user: User, device_id: int, *, client_address: str) -> None:
    """Remove one of ``user``'s passkeys, unless it is their last second factor."""
    User.objects.select_for_update().filter(pk=user.pk).get()  # one change of factors at a time
    device = _passkeys(user).filter(pk=device_id).first()
    if device is None:
        raise PasskeyNotFound
    others = (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or _passkeys(user).exclude(pk=device.pk).exists()
    )
    if not others:
        raise PasskeyRefused(
            _(
                "This passkey is your only second factor: add another passkey or an "
                "authenticator app before removing it."
            )
        )
    device.delete()
    record_account_event(
        Action.REMOVE_PASSKEY, ALLOWED, account=user, actor=user, client_address=client_address
    )


def parse_credential(posted: str) -> Any:
    """The browser's answer the page posted (JSON), or None when it is not JSON: then refused
    like a wrong key."""
    try:
        return json.loads(posted or "null")
    except ValueError:
        return None


def _refuse_staff_without_passkey_session(user: User, session_used_passkey: bool) -> None:
    """A staff member who has a passkey adds another only from a session opened with one:
    otherwise whoever relayed their password and code through a look-alike site could add a key
    of their own and open the administration with it. (The first one needs a one-time enrolment
    code as well: ``accounts.services.passkey_enrolment``.)"""
    if user.kind == UserKind.STAFF and not session_used_passkey and _passkeys(user).exists():
        raise PasskeyRefused(
            _("To add another passkey, first log in with one of the passkeys you already have.")
        )


def _passkeys(user: User) -> QuerySet[PasskeyDevice]:
    return PasskeyDevice.objects.filter(user=user, confirmed=True)


def _own_passkey_for_update(user: User, credential: Any) -> PasskeyDevice | None:
    """The passkey of ``user`` the answer names; a row lock, so that two requests carrying the
    same assertion cannot both pass the counter check."""
    credential_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(credential_id, str):
        return None
    return _passkeys(user).select_for_update().filter(credential_id=credential_id).first()


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(device.credential_id),
            transports=[AuthenticatorTransport(value) for value in device.transports],
        )
        for device in _passkeys(user)
    ]


def _transports(credential: Any) -> list[str]:
    """The transports the browser reported (kept to hint browsers at login), known ones only."""
    response = credential.get("response") if isinstance(credential, dict) else None
    reported = response.get("transports") if isinstance(response, dict) else None
    known = {transport.value for transport in AuthenticatorTransport}
    return [value for value in reported or [] if isinstance(value, str) and value in known]
