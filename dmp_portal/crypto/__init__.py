"""Ground floor: keys, authenticated encryption and keyed hashes. Knows nothing of the apps.

Only this package calls AES. Callers name what a value belongs to (associated data) so that a
ciphertext copied into another row, column or person's record fails to open instead of
revealing someone else's data. See README, "Encryption at rest".

Import the submodules directly (``dmp_portal.crypto.fields``...): this module stays free of
model imports so that settings can load it before Django is set up.
"""

from dmp_portal.crypto.errors import DataDestroyed, DecryptionError
from dmp_portal.crypto.keyring import (
    KeyProvider,
    LocalKeyProvider,
    get_key_provider,
    reset_key_provider,
)

__all__ = [
    "DataDestroyed",
    "DecryptionError",
    "KeyProvider",
    "LocalKeyProvider",
    "get_key_provider",
    "reset_key_provider",
]
