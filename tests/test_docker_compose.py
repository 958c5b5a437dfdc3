"""Properties the deployment files must keep: docker-compose.yml, Dockerfile, .dockerignore.

No Docker engine runs where the suite runs, so these tests read the files. They need no
database: plain functions, no fixtures of pytest-django (only the settings' list of what
production requires).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from dmp_portal.settings import DETAILS_REQUIRED
from dmp_portal.settings.env import Env
from dmp_portal.settings.queues import QUEUES
from dmp_portal.settings.storage import LOCAL_BACKEND, default_storage_backend

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ROLES_SCRIPT = ROOT / "deploy" / "postgres" / "initdb-roles.sh"

LONG_RUNNING = ("postgres", "broker", "cache", "web", "worker", "worker-letters", "beat")
APP_SERVICES = ("web", "worker", "worker-letters", "beat", "migrate")
WAITING_SERVICES = ("web", "worker", "worker-letters", "beat")
WORKERS = ("worker", "worker-letters")
# What production settings refuse to start without (each as NAME or NAME_FILE).
REQUIRED_SETTINGS = (
    "SECRET_KEY",
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "DMP_MASTER_KEYS",
    "DMP_BLIND_INDEX_KEY",
    "ALLOWED_HOSTS",
    "DMP_SITE_URL",
    "DMP_SHRED_LEDGER_PATH",
    "DMP_OPERATOR_NAME",
    "DMP_OPERATOR_ADDRESS",
    "DMP_OPERATOR_PHONE",
    "DMP_OPERATOR_EMAIL",
    "DMP_DPO_CONTACT",
    "DMP_OPERATOR_REGISTRATION",
    "DMP_PUBLICATION_DIRECTOR",
    "DMP_HOST_NAME",
    "DMP_HOST_ADDRESS",
    "DMP_HOST_PHONE",
    "DMP_LETTER_PLACE",
    "DMP_LETTER_SIGNATORY",
    "DMP_LETTER_RETENTION",
)
# Connection strings: a literal is fine as long as it holds no password.
URL_SETTINGS = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL")
SECRET_NAME = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|_KEYS?)$")
# `${VAR:?message}` or `${VAR?message}`: compose stops when VAR is missing; no default possible.
REQUIRED_INTERPOLATION = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*:?\?[^}]*\}$")
URL_WITH_USERINFO = re.compile(
    r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^:@/]*)(?::(?P<password>.*))?@", re.IGNORECASE
)
ANY_URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^:@/\s]*:[^@]+@", re.IGNORECASE)
SECRETS_DIR = "/run/secrets/"


# --- Helpers ---------------------------------------------------------------------------------


def load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def environment_of(service: dict[str, Any]) -> dict[str, str | None]:
    """The service's environment as a mapping, whichever of the two compose forms it uses."""
    env = service.get("environment") or {}
    if isinstance(env, dict):
        return {str(k): None if v is None else str(v) for k, v in env.items()}
    result: dict[str, str | None] = {}
    for item in env:
        key, sep, value = str(item).partition("=")
        result[key] = value if sep else None
    return result


def secret_targets(service: dict[str, Any]) -> dict[str, str]:
    """Path under /run/secrets/ -> top-level secret name, for the secrets granted to a service."""
    targets: dict[str, str] = {}
    for entry in service.get("secrets") or []:
        if isinstance(entry, str):
            targets[entry] = entry
        else:
            source = entry["source"]
            target = entry.get("target", source)
            targets[target.removeprefix(SECRETS_DIR)] = source
    return targets


def secret_problems(env: dict[str, str | None]) -> list[str]:
    """Every way this environment exposes a secret value or a default for one."""
    problems = []
    for key, value in env.items():
        if key.endswith("_FILE"):
            if value is None or not value.startswith(SECRETS_DIR):
                problems.append(f"{key}={value!r} is not a path under {SECRETS_DIR}")
            continue
        if value is not None and ANY_URL_PASSWORD.search(value):
            match = URL_WITH_USERINFO.match(value)
            password = match and match.group("password")
            if not (password and REQUIRED_INTERPOLATION.match(password)):
                problems.append(f"{key} holds a URL with a literal password")
                continue
        if key in URL_SETTINGS:
            if value is None:
                problems.append(f"{key} is passed through from the host, not required")
            elif value.startswith("$") and not REQUIRED_INTERPOLATION.match(value):
                problems.append(f"{key}={value!r} is an optional interpolation (may default)")
        elif SECRET_NAME.search(key) and (value is None or not REQUIRED_INTERPOLATION.match(value)):
            problems.append(f"{key}={value!r}: a secret must be {key}_FILE or ${{VAR:?message}}")
    return problems


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            instructions.append((word.upper(), rest.strip()))
    return instructions


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def default_command() -> list[str]:
    commands = [args for word, args in final_stage() if word == "CMD"]
    assert commands, "the final stage has no CMD"
    return json.loads(commands[-1])


# --- The checker itself catches what it is meant to catch ---------------------------------------


@pytest.mark.parametrize(
    "env",
    [
        {"SECRET_KEY": "django-insecure-abc"},
        {"SECRET_KEY": "${SECRET_KEY:-changeme}"},
        {"SECRET_KEY": "${SECRET_KEY}"},
        {"DMP_MASTER_KEYS": "k1:AAAA"},
        {"DMP_BLIND_INDEX_KEY": None},
        {"POSTGRES_PASSWORD": "postgres"},
        {"DATABASE_URL": "postgres://dmp:hunter2@postgres:5432/dmp"},
        {"DATABASE_URL": "postgres://dmp:${PGPASS:-hunter2}@postgres/dmp"},
        {"CELERY_BROKER_URL": "redis://:s3cret@redis:6379/0"},
        {"CELERY_BROKER_URL": "${CELERY_BROKER_URL:-redis://redis:6379/0}"},
        {"SOME_OTHER_URL": "https://user:pw@api.example.org/"},
        {"SECRET_KEY_FILE": "/etc/dmp/secret_key"},
    ],
)
def test_secret_checker_flags_exposed_secrets(env: dict[str, str | None]) -> None:
    assert secret_problems(env), f"not flagged: {env}"


def test_secret_checker_accepts_files_required_variables_and_password_free_urls() -> None:
    assert (
        secret_problems(
            {
                "SECRET_KEY_FILE": "/run/secrets/secret_key",
                "DMP_MASTER_KEYS": "${DMP_MASTER_KEYS:?set it}",
                "DATABASE_URL": "postgres://dmp:${PGPASS:?set it}@postgres/dmp",
                "CELERY_BROKER_URL": "redis://redis:6379/0",
                "ALLOWED_HOSTS": "${ALLOWED_HOSTS:-localhost}",
            }
        )
        == []
    )


# --- docker-compose.yml ----------------------------------------------------------------------


def test_the_stack_has_its_services(services: dict[str, Any]) -> None:
    assert set(LONG_RUNNING) | {"migrate"} <= set(services)


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_have_a_healthcheck(services: dict[str, Any], name: str) -> None:
    healthcheck = services[name].get("healthcheck")
    assert healthcheck, f"{name} has no healthcheck"
    assert not healthcheck.get("disable"), f"{name} disables its healthcheck"
    test = healthcheck.get("test")
    assert isinstance(test, list)
    assert test[0] in ("CMD", "CMD-SHELL"), f"{name}: healthcheck test {test!r}"
    assert len(test) > 1


def test_health_checks_ask_the_right_thing(services: dict[str, Any]) -> None:
    def joined(name: str) -> str:
        return " ".join(services[name]["healthcheck"]["test"][1:])

    assert "pg_isready" in joined("postgres")
    for name in ("broker", "cache"):
        assert "redis-cli" in joined(name) and "ping" in joined(name)
    # Liveness only: a database outage must not mark every web container unhealthy.
    assert "127.0.0.1:8000/healthz/live" in joined("web")
    # $$ is compose's escape for a literal $, expanded by the shell of the healthcheck.
    assert re.search(r"inspect ping (-d|--destination) \"?celery@\$\$HOSTNAME", joined("worker"))
    assert re.search(
        r"inspect ping (-d|--destination) \"?letters@\$\$HOSTNAME", joined("worker-letters")
    )
    assert re.search(r"inspect ping (-d|--destination) \"?celerybeat@\$\$HOSTNAME", joined("beat"))
    assert "--enable-remote-control" in services["beat"]["command"]


@pytest.mark.parametrize("name", WAITING_SERVICES)
def test_app_services_wait_for_healthy_database_and_broker(
    services: dict[str, Any], name: str
) -> None:
    depends_on = services[name].get("depends_on")
    assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
    for dependency in ("postgres", "broker", "cache"):
        assert depends_on.get(dependency, {}).get("condition") == "service_healthy", (
            f"{name} does not wait for {dependency} to be healthy"
        )
    assert depends_on.get("migrate", {}).get("condition") == "service_completed_successfully"


def test_migrate_is_a_one_shot_that_waits_for_postgres(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    assert migrate["command"][-3:] == ["manage.py", "migrate", "--noinput"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert migrate.get("restart") in ("no", "on-failure")


@pytest.mark.parametrize("name", LONG_RUNNING)
def test_long_running_services_restart(services: dict[str, Any], name: str) -> None:
    assert services[name].get("restart") in ("always", "unless-stopped", "on-failure")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_run_in_production_mode(services: dict[str, Any], name: str) -> None:
    assert environment_of(services[name]).get("DMP_ENV") == "production"


def test_the_required_list_holds_every_detail_production_requires() -> None:
    """The settings name the operator's and the letter's details production refuses to start
    without; compose must require each (a new one added there and forgotten here fails)."""
    assert [name for name in DETAILS_REQUIRED if name not in REQUIRED_SETTINGS] == []


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_services_get_every_required_setting_once(services: dict[str, Any], name: str) -> None:
    env = environment_of(services[name])
    for setting in REQUIRED_SETTINGS:
        given = [key for key in (setting, f"{setting}_FILE") if key in env]
        # The settings refuse NAME and NAME_FILE together, and production refuses neither.
        assert len(given) == 1, f"{name}: {setting} given as {given or 'nothing'}"


def test_no_service_environment_exposes_a_secret(services: dict[str, Any]) -> None:
    problems = {
        name: found
        for name, service in services.items()
        if (found := secret_problems(environment_of(service)))
    }
    assert problems == {}


def test_secret_files_are_granted_to_the_service_that_reads_them(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    declared = compose.get("secrets") or {}
    checked = 0
    for name, service in services.items():
        granted = secret_targets(service)
        for key, value in environment_of(service).items():
            if not key.endswith("_FILE"):
                continue
            assert value is not None and value.startswith(SECRETS_DIR), f"{name}: {key}={value}"
            target = value.removeprefix(SECRETS_DIR)
            assert target in granted, f"{name}: {key} points to {target!r}, not granted"
            assert granted[target] in declared, f"{name}: secret {granted[target]!r} undeclared"
            checked += 1
    assert checked >= 5 * len(APP_SERVICES) + 2  # + the worker's signing key, + postgres


def test_secrets_are_files_of_the_secrets_folder(compose: dict[str, Any]) -> None:
    declared = compose.get("secrets") or {}
    assert {
        "secret_key",
        "database_url",
        "dmp_master_keys",
        "dmp_blind_index_key",
        "dmp_audit_signing_key",
        "postgres_password",
        "database_migrate_url",
    } <= set(declared)
    for name, spec in declared.items():
        assert set(spec) == {"file"}, f"secret {name} must come from a file: {spec}"
        assert spec["file"] == f"./secrets/{name}"


def test_postgres_password_comes_from_a_secret_file(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    env = environment_of(postgres)
    assert "POSTGRES_PASSWORD" not in env
    assert env["POSTGRES_PASSWORD_FILE"] == "/run/secrets/postgres_password"
    assert "postgres_password" in secret_targets(postgres)
    assert env.get("POSTGRES_HOST_AUTH_METHOD") in (None, "scram-sha-256")


def test_the_database_url_is_a_secret_file(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        env = environment_of(services[name])
        assert "DATABASE_URL" not in env
        expected = "database_migrate_url" if name == "migrate" else "database_url"
        assert env["DATABASE_URL_FILE"] == SECRETS_DIR + expected


def test_only_migrate_connects_as_the_owner_of_the_tables(services: dict[str, Any]) -> None:
    """The owner's role can disable the audit trail's triggers: web, worker and beat, which
    serve requests and run tasks, connect as the application role and never see its URL."""
    holders = {
        name
        for name, service in services.items()
        if "database_migrate_url" in secret_targets(service).values()
        or "database_migrate_url" in secret_targets(service)
    }
    assert holders == {"migrate", "postgres"}  # postgres reads it once, to create the role
    for name in WAITING_SERVICES:
        granted = secret_targets(services[name])
        assert granted.get("database_url") == "database_url", name
        assert all(
            "migrate" not in value for value in environment_of(services[name]).values() if value
        )
    assert "database_url" not in secret_targets(services["migrate"])


def test_postgres_creates_both_roles_on_its_first_start(services: dict[str, Any]) -> None:
    postgres = services["postgres"]
    mounts = {
        volume.split(":")[1]: volume.split(":")[0]
        for volume in postgres["volumes"]
        if isinstance(volume, str)
    }
    scripts = [path for path in mounts if path.startswith("/docker-entrypoint-initdb.d/")]
    assert len(scripts) == 1 and scripts[0].endswith(".sh")
    assert (ROOT / mounts[scripts[0]]).resolve() == ROLES_SCRIPT
    # The script finds its SQL through this mount when the entrypoint runs it from initdb.d.
    assert mounts["/etc/dmp/postgres"] == "./deploy/postgres"
    assert "/etc/dmp/postgres/roles.sql" in ROLES_SCRIPT.read_text()
    assert {"database_url", "database_migrate_url"} <= set(secret_targets(postgres).values())
    # The superuser the image creates is neither role that secrets/README.md has the services
    # connect as (nor the superuser `dmp` the portal used to run as).
    documented = set(re.findall(r"postgres://(\w+):", (ROOT / "secrets" / "README.md").read_text()))
    assert documented == {"dmp_app", "dmp_owner"}
    assert environment_of(postgres)["POSTGRES_USER"] not in documented | {"dmp"}


def test_only_web_publishes_a_port_and_on_loopback(services: dict[str, Any]) -> None:
    publishing = {name for name, service in services.items() if service.get("ports")}
    assert publishing == {"web"}
    assert all(service.get("network_mode") != "host" for service in services.values())
    for port in services["web"]["ports"]:
        if isinstance(port, dict):
            assert port.get("host_ip") == "127.0.0.1", port
        else:
            assert str(port).startswith("127.0.0.1:"), port
            assert str(port).split(":")[-1].split("/")[0] == "8000"


def test_database_and_broker_stay_on_an_internal_network(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    networks = compose.get("networks") or {}
    for name in ("postgres", "broker", "cache"):
        attached = services[name].get("networks") or ["default"]
        assert all((networks.get(net) or {}).get("internal") is True for net in attached), name


def test_media_volume_is_shared_by_web_and_worker(services: dict[str, Any]) -> None:
    mounts = {}
    for name in ("web", *WORKERS):
        media_root = environment_of(services[name])["MEDIA_ROOT"]
        matching = [
            v
            for v in services[name].get("volumes", [])
            if isinstance(v, str) and v.split(":")[1] == media_root
        ]
        assert len(matching) == 1, f"{name}: no volume on MEDIA_ROOT {media_root}"
        mounts[name] = matching[0].split(":")[0]
    assert mounts["web"] == mounts["worker"] == mounts["worker-letters"]


def test_beat_keeps_its_schedule_on_a_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    beat = services["beat"]
    schedule = next(
        arg.split("=", 1)[1] for arg in beat["command"] if arg.startswith("--schedule=")
    )
    volumes = {v.split(":")[1]: v.split(":")[0] for v in beat.get("volumes", [])}
    directory = str(Path(schedule).parent)
    assert directory in volumes, f"{schedule} is not on a volume"
    assert volumes[directory] in (compose.get("volumes") or {})


def test_the_worker_and_beat_run_the_celery_app(services: dict[str, Any]) -> None:
    for name in WORKERS:
        assert services[name]["command"][:4] == ["celery", "-A", "dmp_portal", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "dmp_portal", "beat"]


# --- Dockerfile and .dockerignore ------------------------------------------------------------


def test_every_stage_uses_the_python_311_slim_bookworm_base() -> None:
    bases = [args.split()[0] for word, args in dockerfile_instructions() if word == "FROM"]
    assert bases
    assert all(base.startswith("python:3.11-slim-bookworm") for base in bases), bases


def test_the_image_runs_as_a_non_root_user() -> None:
    users = [args for word, args in final_stage() if word == "USER"]
    assert users, "the final stage never leaves root"
    user, _, group = users[-1].partition(":")
    assert user not in ("root", "0", "")
    assert group not in ("root", "0")
    # Nothing after the last USER switches back.
    last_user = max(i for i, (word, _) in enumerate(final_stage()) if word == "USER")
    assert all(word != "USER" for word, _ in final_stage()[last_user + 1 :])


def test_dependencies_install_only_from_the_hashed_lock() -> None:
    installs = [
        args
        for word, args in dockerfile_instructions()
        if word == "RUN" and re.search(r"\bpip3? install\b", args)
    ]
    assert installs, "no pip install"
    for args in installs:
        assert "--require-hashes" in args, args
        assert "--no-cache-dir" in args, args
    assert any(
        "-r /tmp/requirements/base.txt" in args or "-r requirements/base.txt" in args
        for args in installs
    )


def test_static_files_and_translations_are_built_in_the_image() -> None:
    runs = " ".join(args for word, args in dockerfile_instructions() if word == "RUN")
    assert "collectstatic --noinput" in runs
    assert "compilemessages" in runs
    assert "gettext" in runs
    # Production storage (manifest) is what serves the files: collect in production mode.
    assert "DMP_ENV=production" in runs


def test_the_default_command_is_gunicorn_with_a_safe_access_log() -> None:
    command = default_command()
    assert command[:2] == ["gunicorn", "dmp_portal.wsgi:application"]

    def option(name: str) -> str:
        return command[command.index(name) + 1]

    assert option("--bind") == "0.0.0.0:8000"
    assert option("--workers") == "2"
    assert option("--worker-class") == "sync"
    assert option("--access-logfile") == "-"
    log_format = option("--access-logformat")
    for atom in ("%(m)s", "%(U)s", "%(s)s", "%(M)s"):
        assert atom in log_format, f"access log lacks {atom}"
    assert "%(B)s" in log_format or "%(b)s" in log_format
    # Request line, query string, referer and headers may all carry tokens.
    for atom in ("%(r)s", "%(q)s", "%(f)s", "%({"):
        assert atom not in log_format, f"access log holds {atom}"


def test_the_image_exposes_8000_and_checks_healthz() -> None:
    stage = final_stage()
    assert ("EXPOSE", "8000") in stage
    healthchecks = [args for word, args in stage if word == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert "urllib" in healthchecks[0] and "127.0.0.1:8000/healthz/live" in healthchecks[0]


def test_secrets_and_local_state_stay_out_of_the_build_context() -> None:
    patterns = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    for required in ("secrets", ".venv", ".git", "var", ".env", "deploy"):
        assert required in patterns, f".dockerignore does not exclude {required}"


def test_only_the_worker_holds_the_audit_signing_key(services: dict[str, Any]) -> None:
    """Whoever holds the signing key and the database can rewrite the trail unnoticed: web,
    beat and migrate, which never sign a checkpoint, do not get it."""
    holders = {
        name
        for name, service in services.items()
        if "dmp_audit_signing_key" in secret_targets(service).values()
        or "DMP_AUDIT_SIGNING_KEY_FILE" in environment_of(service)
    }
    assert holders == {"worker"}
    assert environment_of(services["worker"])["DMP_AUDIT_SIGNING_KEY_FILE"] == (
        SECRETS_DIR + "dmp_audit_signing_key"
    )


# --- Issue 18: two Redis, workers by queue, e-mail timeout, S3 and HSM --------------------------


def redis_options(service: dict[str, Any]) -> dict[str, str]:
    """``redis-server --name value ...`` as a mapping."""
    command = service["command"]
    assert command[0] == "redis-server"
    pairs = command[1:]
    assert len(pairs) % 2 == 0, command
    return {pairs[i].removeprefix("--"): pairs[i + 1] for i in range(0, len(pairs), 2)}


def queues_of(service: dict[str, Any]) -> list[str]:
    options = [arg for arg in service["command"] if arg.startswith(("--queues=", "-Q"))]
    assert len(options) == 1, f"{service['command']}: say which queues it consumes"
    return options[0].split("=", 1)[1].split(",")


def with_defaults(value: str) -> str:
    """What compose makes of ``${VAR:-default}`` when VAR is not set."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def test_the_broker_is_persistent_and_never_evicts_a_message(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    options = redis_options(services["broker"])
    assert options["appendonly"] == "yes"
    assert options["appendfsync"] in ("everysec", "always")
    assert options["maxmemory-policy"] == "noeviction"
    volumes = {v.split(":")[1]: v.split(":")[0] for v in services["broker"]["volumes"]}
    assert volumes["/data"] in (compose.get("volumes") or {}), "the append-only file on a volume"


def test_the_cache_is_capped_and_evicts_the_least_recently_used(
    services: dict[str, Any],
) -> None:
    options = redis_options(services["cache"])
    assert options["maxmemory-policy"] == "allkeys-lru"
    assert re.fullmatch(r"\d+[kmg]b", with_defaults(options["maxmemory"])), options["maxmemory"]
    assert options["appendonly"] == "no" and options["save"] == ""
    assert not services["cache"].get("volumes")


@pytest.mark.parametrize("name", APP_SERVICES)
def test_broker_and_cache_are_two_servers(services: dict[str, Any], name: str) -> None:
    env = environment_of(services[name])
    assert env["CELERY_BROKER_URL"] == "redis://broker:6379/0"
    assert env["CACHE_URL"] == "redis://cache:6379/0"


def test_the_workers_consume_every_queue_once(services: dict[str, Any]) -> None:
    consumed = [queue for name in WORKERS for queue in queues_of(services[name])]
    assert sorted(consumed) == sorted(QUEUES)
    assert queues_of(services["worker-letters"]) == ["letters"]
    # The checkpoints need the signing key, which only `worker` holds.
    assert "checkpoints" in queues_of(services["worker"])


def test_each_workers_health_check_pings_its_own_name(services: dict[str, Any]) -> None:
    for name in WORKERS:
        command = services[name]["command"]
        hostname = next(arg for arg in command if arg.startswith("--hostname="))
        node = hostname.split("=", 1)[1].split("@")[0]
        check = " ".join(services[name]["healthcheck"]["test"][1:])
        assert f'"{node}@$$HOSTNAME"' in check, name
        assert services[name].get("stop_grace_period"), f"{name}: running tasks need time"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_e_mail_has_a_timeout(services: dict[str, Any], name: str) -> None:
    timeout = environment_of(services[name])["EMAIL_TIMEOUT"]
    assert timeout is not None
    assert int(with_defaults(timeout)) == 10


def test_storage_and_keys_default_to_the_local_disk_and_keys(services: dict[str, Any]) -> None:
    env = {
        key: with_defaults(value)
        for key, value in environment_of(services["web"]).items()
        if value is not None
    }
    assert default_storage_backend(Env(env)) == {"BACKEND": LOCAL_BACKEND}
    assert env["DMP_KEY_PROVIDER"] == "local"


def test_an_operator_switches_to_s3_and_an_hsm_by_variables_and_two_secrets(
    services: dict[str, Any],
) -> None:
    """Every setting of the bucket and the HSM is an overridable variable, except their
    secrets, which are files whose lines wait commented out (a secret file that does not exist
    would stop compose for every deployment)."""
    env = environment_of(services["web"])
    for name in (
        "DMP_STORAGE",
        "DMP_S3_ENDPOINT_URL",
        "DMP_S3_BUCKET",
        "DMP_S3_ACCESS_KEY_ID",
        "DMP_S3_REGION",
        "DMP_S3_ADDRESSING_STYLE",
        "DMP_KEY_PROVIDER",
        "DMP_PKCS11_MODULE",
        "DMP_PKCS11_TOKEN_LABEL",
        "DMP_PKCS11_KEY_LABELS",
    ):
        assert re.fullmatch(rf"\$\{{{name}:-[^}}]*\}}", env[name] or ""), name
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for line in (
        "# DMP_S3_SECRET_ACCESS_KEY_FILE: /run/secrets/dmp_s3_secret_access_key",
        "# DMP_PKCS11_PIN_FILE: /run/secrets/dmp_pkcs11_pin",
        "# dmp_s3_secret_access_key:",
        "#   file: ./secrets/dmp_s3_secret_access_key",
        "# dmp_pkcs11_pin:",
        "#   file: ./secrets/dmp_pkcs11_pin",
    ):
        assert line in text, line
