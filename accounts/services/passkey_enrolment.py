"""The one-time code a staff member without any passkey types to register their first one.

Why: the administration opens only to a session confirmed with a passkey, because a password
and an authenticator code can be relayed through a look-alike site and a passkey cannot. If that
relayed password and code were enough to register the first key, whoever relayed them would
register their own and open the administration. So the first key also needs a code that comes
from outside the login: printed once by an operator's command
(``manage.py issue_passkey_enrolment``), handed over by hand.

The code: 12 symbols of Crockford's base32 (60 random bits), printed XXXX-XXXX-XXXX; only its
keyed hash is stored; valid 24 hours; single use; a newer one stops the older ones; each one
issued is recorded on the system chain. A wrong, expired or used code gets one answer, and counts
as a try of the code step's throttles.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import PasskeyDevice, User, UserKind
from accounts.passkeys import StaffPasskeyEnrolment
from accounts.services.authentication import check_setup_token
from accounts.services.events import ALLOWED, REFUSED, record_account_event
from accounts.services.sessions import end_other_sessions
from audit.models import Action
from dmp_portal.crypto.hashing import keyed_hash

VALIDITY = timedelta(hours=24)
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's: no I, L, O, U
LENGTH = 12
# Crockford's decoding rules: letters that look like digits are read as those digits.
_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})


class EnrolmentRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _not_valid() -> EnrolmentRefused:
    """The one answer for a wrong, expired, used or superseded code."""
    return EnrolmentRefused(
        _(
            "This enrolment code is not valid (wrong, expired or already used). Type the 12 "
            "characters, in the form XXXX-XXXX-XXXX, of the last code given to you, or ask "
            "for a new one."
        )
    )


def needs_enrolment_code(user: User) -> bool:
    """A staff member who has no passkey yet: their first one needs a code."""
    return (
        user.kind == UserKind.STAFF
        and not PasskeyDevice.objects.filter(user=user, confirmed=True).exists()
    )


def normalise(typed: str) -> str:
    return "".join(ch for ch in str(typed or "").upper() if ch.isalnum()).translate(_ALIASES)


def _hash(code: str) -> str:
    return keyed_hash("staff-passkey-enrolment", normalise(code))


@transaction.atomic
def issue_enrolment_code(
    username: str,
    *,
    issued_by: User | None,
    client_address: str = "",
    passkeys_lost: bool = False,
) -> str:
    """A new code for the active staff member ``username``, returned in clear once (older
    unused ones stop working). ``issued_by``: the staff member who issues it, never the same
    person (None: an operator's command). EnrolmentRefused when there is no such staff member.

    ``passkeys_lost`` (the operator's command only): the staff member lost every passkey, so
    none can open the session that adding another needs; they are removed first (and every
    session of the account ends, since one may have been opened with a lost key), which makes
    the new code the way to a first key again."""
    user = (
        User.objects.select_for_update()
        .filter(username=username, kind=UserKind.STAFF, is_active=True)
        .first()
    )
    if user is None:
        raise EnrolmentRefused(_("No active staff member has this identifier."))
    if issued_by is not None and (issued_by.pk == user.pk or issued_by.kind != UserKind.STAFF):
        raise EnrolmentRefused(_("Another staff member must issue your enrolment code: not you."))
    if passkeys_lost:
        _remove_lost_passkeys(user, issued_by, client_address)
    now = timezone.now()
    StaffPasskeyEnrolment.objects.filter(user=user, used_at__isnull=True).update(expires_at=now)
    raw = "".join(secrets.choice(ALPHABET) for _index in range(LENGTH))
    StaffPasskeyEnrolment.objects.create(
        user=user,
        code_hash=_hash(raw),
        issued_by=issued_by,
        created_at=now,
        expires_at=now + VALIDITY,
    )
    record_account_event(
        Action.ISSUE_PASSKEY_ENROLMENT,
        ALLOWED,
        account=user,
        actor=issued_by,
        client_address=client_address,
    )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def _remove_lost_passkeys(user: User, issued_by: User | None, client_address: str) -> None:
    removed, _per_model = PasskeyDevice.objects.filter(user=user).delete()
    if removed:
        record_account_event(
            Action.REMOVE_PASSKEY,
            ALLOWED,
            account=user,
            actor=issued_by,
            client_address=client_address,
            reason="lost",
        )
    end_other_sessions(user, None, actor=issued_by, client_address=client_address, reason="lost")


def check_enrolment_code(
    user: User, typed: str, *, client_address: str, known_browser: bool
) -> int:
    """The id of ``user``'s usable code that ``typed`` is, checked (not used yet: the key is
    registered at the next step, which uses it, ``use_enrolment_code``), or EnrolmentRefused.
    A try of the code step's throttles (LoginRefused when they hold); a refusal is recorded."""
    found: list[int] = []

    def verify() -> bool:
        normalised = normalise(typed)
        if len(normalised) != LENGTH:
            return False
        enrolment = StaffPasskeyEnrolment.objects.filter(
            user=user, code_hash=_hash(normalised)
        ).first()
        if enrolment is None or not enrolment.is_usable():
            return False
        found.append(enrolment.pk)
        return True

    if check_setup_token(user, verify, client_address=client_address, known_browser=known_browser):
        return found[0]
    record_account_event(
        Action.ADD_PASSKEY,
        REFUSED,
        account=user,
        actor=user,
        client_address=client_address,
        reason="enrolment-code",
    )
    raise _not_valid()


def use_enrolment_code(user: User, enrolment_id: int | None) -> None:
    """Spend the code checked at the options step, in the caller's transaction (the one that
    registers the key), or EnrolmentRefused if it was used or stopped meanwhile."""
    if enrolment_id is None:
        raise _not_valid()
    now = timezone.now()
    spent = StaffPasskeyEnrolment.objects.filter(
        pk=enrolment_id, user=user, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        raise _not_valid()
