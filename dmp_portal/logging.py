"""A logging filter that masks what must never reach a log line.

Views and services do not log personal data in the first place; this filter is the safety net
for what libraries log on their own (Django's "Not Found: /path" warnings, tracebacks quoting a
value...). It masks NIR-shaped numbers, creation codes, activation tokens in paths and password
fields, e-mail addresses.

Every line is written as one JSON object (``JsonFormatter``): UTC time, level, logger, message,
the request id (``dmp_portal.request_context``) and, when there is one, the redacted traceback.
"""

import json
import logging
import re
import time
from datetime import UTC, datetime

from dmp_portal import request_context

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
    # E-mail addresses (a contact address, a practitioner's invitation): never in a log line.
    (re.compile(r"[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+"), "[EMAIL]"),
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


class RequestIdFilter(logging.Filter):
    """Stamps each record with the id of the request or task it was written for."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_context.current()
        return True


class DisallowedHostAsWarning(logging.Filter):
    """A request for a host name the portal does not serve is noise of the Internet (scanners,
    a stale DNS entry), not a fault: a warning on one line, without Django's traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text = None, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: a traceback's newlines are escaped inside it, so a line is
    always a whole event and nothing a client sends can start a line of its own."""

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or request_context.current(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            event["exception"] = record.exc_text
        return json.dumps(event, ensure_ascii=False)


class UtcFormatter(logging.Formatter):
    """The readable lines of LOG_FORMAT=plain, in UTC like the JSON ones (not the server's
    local time, which jumps twice a year)."""

    def converter(self, timestamp: float | None) -> time.struct_time:
        return time.gmtime(timestamp)
