"""A logging filter that masks what must never reach a log line.

Views and services do not log personal data in the first place; this filter is the safety net
for what libraries log on their own (Django's "Not Found: /path" warnings, tracebacks quoting a
value...). It masks NIR-shaped numbers, creation codes, activation tokens in paths and password
fields.
"""

import logging
import re

_PATTERNS = [
    # NIR: 13 characters (+ 2 check digits), spaces, dots or dashes allowed, Corsica 2A/2B.
    (
        re.compile(
            r"(?<![\w])[12378][\s.\-]?\d{2}[\s.\-]?\d{2}[\s.\-]?(?:\d{2}|2[AB])[\s.\-]?"
            r"\d{3}[\s.\-]?\d{3}(?:[\s.\-]?\d{2})?(?![\w])",
            re.IGNORECASE,
        ),
        "[NIR]",
    ),
    # Creation code as printed and typed: 12 Crockford base32 symbols in three groups of four,
    # not inside a longer hyphenated token such as a UUID.
    (
        re.compile(
            r"(?<![\w-])[0-9A-HJKMNP-TV-Z]{4}[- ][0-9A-HJKMNP-TV-Z]{4}[- ]"
            r"[0-9A-HJKMNP-TV-Z]{4}(?![\w-])",
            re.IGNORECASE,
        ),
        "[CODE]",
    ),
    # Single-use links: activation, password reset, contact address confirmation.
    (
        re.compile(r"(/accounts/(?:activate|password/reset|email/confirm)/)[^/\s?]+"),
        r"\1[TOKEN]",
    ),
    # Query strings that carry what a person searched for in their record.
    (re.compile(r"(?<![\w])((?:q|nir)=)[^&\s'\"]+"), r"\1[REDACTED]"),
    (
        re.compile(
            r"((?:password|passwd|otp_token|creation_code|new_password\d)\W{1,3})[^&\s'\"]+",
            re.IGNORECASE,
        ),
        r"\1[REDACTED]",
    ),
]


def redact(text: str) -> str:
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactSensitiveData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True
