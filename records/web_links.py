"""Whether a link in an uploaded document leads to a web page or to e-mail addresses.

A link a reader would open as a file or a Windows share (``file:``, ``\\\\server\\share``, and
``http:\\\\server\\share``, which Windows readers hand to the file system: the reader's
credentials go to that server) is no web link; nor is a scheme with nothing after it. Used for
PDF links (``/URI``) and RTF hyperlink fields alike, so that both read an address the same way.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

WEB_SCHEMES = ("http://", "https://")
# One address of a mailto: link (several are separated by commas); never a path nor a share.
MAIL_ADDRESS = re.compile(r"[^@\s\\/,?]+@[^@\s\\/,?]+")


def is_web_or_mail_link(target: str) -> bool:
    """``http://`` or ``https://`` and a host, or ``mailto:`` and addresses; nothing else."""
    target = target.strip()
    if "\\" in target or any(ord(char) < 0x20 for char in target):
        return False
    try:
        parts = urlsplit(target)
    except ValueError:  # an invalid address, such as an unclosed IPv6 bracket
        return False
    if parts.scheme.lower() == "mailto":
        addresses = parts.path.split(",")
        return all(MAIL_ADDRESS.fullmatch(address.strip()) for address in addresses)
    return target.lower().startswith(WEB_SCHEMES) and bool(parts.hostname)
