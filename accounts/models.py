"""The models of accounts, where Django loads them: users, practitioner profiles and activation
links (``accounts.users``), second factors (``accounts.devices``, ``accounts.passkeys``),
contact e-mail addresses and password reset links (``accounts.contact``), the session store's
rows (``accounts.sessions``), the login throttles that hold (``accounts.locks``).

The second factors' rows point to their user, so ``devices`` sits above ``users`` and this
module, which names both, above the two; nothing in the app below it imports it.
"""

from accounts.contact import ContactEmail, ContactEmailChange, PasswordResetLink
from accounts.devices import BackupCode, BackupCodeDevice, TOTPDevice
from accounts.locks import ThrottleLock
from accounts.passkeys import PasskeyDevice
from accounts.professions import Profession
from accounts.sessions import AccountSession
from accounts.users import ActivationLink, PractitionerProfile, User, UserKind, UserManager

__all__ = [
    "AccountSession",
    "ActivationLink",
    "BackupCode",
    "BackupCodeDevice",
    "PasskeyDevice",
    "ContactEmail",
    "ContactEmailChange",
    "PasswordResetLink",
    "PractitionerProfile",
    "Profession",
    "ThrottleLock",
    "TOTPDevice",
    "User",
    "UserKind",
    "UserManager",
]
