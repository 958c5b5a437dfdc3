"""Ground floor: keys and authenticated encryption. Knows nothing of the apps.

Only this package calls AES. Callers name what a value belongs to (``aad``) so that a ciphertext
copied into another row or column fails to decrypt instead of revealing someone else's data.
"""

from dmp_portal.crypto.keyring import (
    DecryptionError,
    KeyProvider,
    LocalKeyProvider,
    get_key_provider,
    reset_key_provider,
)

__all__ = [
    "DecryptionError",
    "KeyProvider",
    "LocalKeyProvider",
    "get_key_provider",
    "reset_key_provider",
]
