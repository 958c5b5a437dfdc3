"""Log lines never carry a NIR, a creation code, an activation token or a password."""

from __future__ import annotations

import io
import logging

import pytest
from django.test import Client

from dmp_portal.logging import RedactSensitiveData, redact


@pytest.mark.parametrize(
    ("raw", "secret"),
    [
        ("lookup for 1 85 05 78 006 084 91 failed", "006 084"),
        ("lookup for 185057800608491 failed", "185057800608491"),
        ("corsica 2 69 05 2A 006 084 12", "2A 006"),
        ("code 7K2Q-D9XW-4MHN rejected", "7K2Q-D9XW-4MHN"),
        ("Not Found: /accounts/activate/Zx9_abc-DEF123/", "Zx9_abc-DEF123"),
        ("Not Found: /accounts/password/reset/Qw8_abc-XYZ987/", "Qw8_abc-XYZ987"),
        ("Not Found: /accounts/email/confirm/Rt7_abc-UVW654/", "Rt7_abc-UVW654"),
        ("POST password=hunter2hunter2&otp_token=123456", "hunter2hunter2"),
    ],
)
def test_redaction_masks_sensitive_values(raw, secret):
    assert secret not in redact(raw)


def test_redaction_keeps_ordinary_messages():
    assert redact("GET /records/ 200 in 12 ms") == "GET /records/ 200 in 12 ms"


def test_filter_redacts_arguments_of_library_log_calls():
    record = logging.LogRecord(
        "django.request",
        logging.WARNING,
        __file__,
        1,
        "Not Found: %s",
        ("/accounts/activate/secret-token-value/",),
        None,
    )
    RedactSensitiveData().filter(record)
    assert "secret-token-value" not in record.getMessage()


@pytest.mark.django_db
def test_the_configured_log_handler_writes_no_activation_token():
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactSensitiveData) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        Client().get("/accounts/activate/leaky-token-123/extra/")
    finally:
        handler.setStream(previous)
    written = stream.getvalue()
    assert "Not Found" in written
    assert "leaky-token-123" not in written


def test_redaction_leaves_uuids_readable():
    text = "row=3f2b8c1e-4de3-ae59-b2c1-0a9f5e7d6c4b refused"
    assert redact(text) == text


def test_searches_in_a_record_are_masked_in_request_lines():
    line = '"GET /records/?q=VIH&category=biologie HTTP/1.1" 200'
    assert "VIH" not in redact(line) and "category=biologie" in redact(line)
    assert redact("seq=4") == "seq=4"
