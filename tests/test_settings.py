"""Settings from the environment: strict parsing, secret files, production refusing to start."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from dmp_portal.settings.env import Env
from tests.production import production_environ, random_key, run_manage


def test_a_boolean_that_is_not_true_or_false_is_an_error():
    assert Env({"FLAG": "true"}).bool("FLAG", False) is True
    assert Env({"FLAG": "False"}).bool("FLAG", True) is False
    assert Env({}).bool("FLAG", True) is True
    for typo in ("ture", "1", "yes", "on", "0"):
        with pytest.raises(ImproperlyConfigured, match=f"FLAG='{typo}' is not a boolean"):
            Env({"FLAG": typo}).bool("FLAG", False)


def test_a_secret_can_come_from_a_file(tmp_path):
    secret_file = tmp_path / "secret_key"
    secret_file.write_text("from-a-file\n")
    assert Env({"SECRET_KEY_FILE": str(secret_file)}).str("SECRET_KEY") == "from-a-file"
    with pytest.raises(ImproperlyConfigured, match="either SECRET_KEY or SECRET_KEY_FILE"):
        Env({"SECRET_KEY": "a", "SECRET_KEY_FILE": str(secret_file)}).str("SECRET_KEY")
    with pytest.raises(ImproperlyConfigured, match="cannot be read"):
        Env({"SECRET_KEY_FILE": str(tmp_path / "missing")}).str("SECRET_KEY")


def test_integers_are_parsed_strictly():
    assert Env({"N": " 15 "}).int("N", 1) == 15
    with pytest.raises(ImproperlyConfigured, match="not a whole number"):
        Env({"N": "quinze"}).int("N", 1)


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "DMP_MASTER_KEYS", "DMP_BLIND_INDEX_KEY"],
)
def test_production_refuses_to_start_without_its_secrets(missing):
    result = run_manage(production_environ(**{missing: None}), "check")
    assert result.returncode != 0
    assert "refuses to start" in result.stderr
    assert missing in result.stderr.splitlines()[-1]


def test_production_refuses_a_database_that_is_not_postgresql():
    result = run_manage(production_environ(DATABASE_URL="sqlite:////tmp/x.db"), "check")
    assert result.returncode != 0
    assert "PostgreSQL" in result.stderr


def test_production_accepts_secrets_given_as_files(tmp_path):
    key_file = tmp_path / "master_keys"
    key_file.write_text(f"prod-1:{random_key()}\n")
    environ = production_environ(DMP_MASTER_KEYS=None, DMP_MASTER_KEYS_FILE=str(key_file))
    result = run_manage(environ, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr


def test_check_deploy_passes_in_production_mode():
    result = run_manage(production_environ(), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_seed_demo_is_refused_in_production():
    result = run_manage(production_environ(), "seed_demo")
    assert result.returncode != 0
    assert "seed_demo" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DMP_MASTER_KEYS", "not-a-key"),
        ("DMP_BLIND_INDEX_KEY", "c2hvcnQ"),
        ("DMP_AUDIT_SIGNING_KEY", "c2hvcnQ"),
        ("DMP_AUDIT_VERIFY_KEYS", random_key() + ",c2hvcnQ"),
    ],
)
def test_production_refuses_malformed_keys(name, value):
    result = run_manage(production_environ(**{name: value}), "check")
    assert result.returncode != 0
    assert name in result.stderr.splitlines()[-1]


def test_a_database_url_without_dmp_env_is_refused():
    environ = production_environ(DMP_ENV=None)
    result = run_manage(environ, "check")
    assert result.returncode != 0
    assert "DATABASE_URL is set but DMP_ENV is not" in result.stderr


def test_seed_demo_is_refused_in_development_on_a_shared_database(tmp_path):
    environ = production_environ(DMP_ENV="development", DMP_VAR_DIR=str(tmp_path))
    result = run_manage(environ, "seed_demo")
    assert result.returncode != 0
    assert "SQLite" in result.stderr


def test_production_starts_without_the_audit_signingrandom_key():
    """Web, beat and migrate run without it: only the worker signs checkpoints (compose)."""
    result = run_manage(production_environ(DMP_AUDIT_SIGNING_KEY=None), "check")
    assert result.returncode == 0, result.stderr


def test_transaction_pooling_turns_server_side_cursors_off():
    # Behind PgBouncer in transaction mode (README, Deployment): .iterator() must not leave a
    # cursor on a server connection the next transaction may not get.
    show = "from django.conf import settings as s; print(s.DATABASES['default']"
    show += "['DISABLE_SERVER_SIDE_CURSORS'])"
    for value, expected in (("true", "True"), (None, "False")):
        environ = production_environ(DATABASE_TRANSACTION_POOLING=value)
        result = run_manage(environ, "shell", "-c", show)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == expected
    result = run_manage(production_environ(DATABASE_TRANSACTION_POOLING="yes"), "check")
    assert "DATABASE_TRANSACTION_POOLING='yes' is not a boolean" in result.stderr
