"""DMP_KEY_PROVIDER: local by default; pkcs11 in production needs the token's settings, and
no longer DMP_MASTER_KEYS (which, if kept, only unwraps keys not yet rotated into the HSM)."""

from __future__ import annotations

from django.conf import settings

from dmp_portal.crypto.keyring import LocalKeyProvider, get_key_provider, reset_key_provider
from tests.production import production_environ, run_manage

PKCS11 = {
    "DMP_KEY_PROVIDER": "pkcs11",
    "DMP_PKCS11_MODULE": "/usr/lib/softhsm/libsofthsm2.so",
    "DMP_PKCS11_TOKEN_LABEL": "dmp",
    "DMP_PKCS11_PIN": "1234",
    "DMP_PKCS11_KEY_LABELS": "hsm-2,hsm-1",
}


def test_production_with_an_hsm_starts_without_local_master_keys():
    result = run_manage(production_environ(DMP_MASTER_KEYS=None, **PKCS11), "check")
    assert result.returncode == 0, result.stderr


def test_production_with_an_hsm_refuses_to_start_without_its_pin():
    environ = production_environ(**{**PKCS11, "DMP_PKCS11_PIN": None})
    result = run_manage(environ, "check")
    assert result.returncode != 0
    assert "DMP_PKCS11_PIN" in result.stderr.splitlines()[-1]


def test_an_unknown_key_provider_is_refused():
    result = run_manage(production_environ(DMP_KEY_PROVIDER="vault"), "check")
    assert result.returncode != 0
    assert "DMP_KEY_PROVIDER must be local or pkcs11" in result.stderr


def test_malformed_key_labels_are_refused_at_start_up():
    environ = production_environ(**{**PKCS11, "DMP_PKCS11_KEY_LABELS": "hsm-1,hsm-1"})
    result = run_manage(environ, "check")
    assert result.returncode != 0
    assert "appears twice" in result.stderr


def test_the_local_provider_stays_the_default():
    assert settings.DMP_KEY_PROVIDER == "local"
    reset_key_provider()
    assert isinstance(get_key_provider(), LocalKeyProvider)
