class DecryptionError(Exception):
    """A ciphertext did not open: tampered, moved to another row or owner, or an unknown key.

    Never carries the data itself; callers log it as a security event.
    """


class DataDestroyed(Exception):
    """The data key was destroyed on purpose (crypto-shredding): the data is gone, not broken."""
