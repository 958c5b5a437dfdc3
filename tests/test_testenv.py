"""Helpers of scripts/testenv.py that work without starting PostgreSQL or Redis."""

import base64
import importlib.util
import socket
import sys
import threading
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "testenv.py"


def load_testenv():
    spec = importlib.util.spec_from_file_location("testenv", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["testenv"] = module
    spec.loader.exec_module(module)
    return module


testenv = load_testenv()


def decode_key(text: str) -> bytes:
    assert "=" not in text, "keys are written without padding"
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_free_ports_are_distinct_and_bindable_on_loopback():
    ports = testenv.free_ports(3)
    assert len(set(ports)) == 3
    for port in ports:
        assert 1024 <= port <= 65535
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind(("127.0.0.1", port))


def test_random_key_is_unpadded_base64url_of_32_random_bytes():
    keys = {testenv.random_key() for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert set(key) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        assert len(decode_key(key)) == 32


def test_random_secret_has_50_characters_and_differs_each_time():
    secrets = {testenv.random_secret() for _ in range(5)}
    assert len(secrets) == 5
    assert all(len(secret) == 50 for secret in secrets)


def test_build_env_exports_the_test_services(tmp_path):
    base = {"CI": "true", "PATH": "/usr/bin", "DATABASE_URL": "postgres://someone@prod/db"}
    env = testenv.build_env(base, tmp_path, pg_port=54321, redis_port=6390)

    assert env["CI"] == "true"
    assert env["PATH"] == "/usr/bin"
    assert base["DATABASE_URL"] == "postgres://someone@prod/db", "the base mapping is not changed"
    assert env["DMP_ENV"] == "test"
    assert env["DATABASE_URL"] == "postgres://dmp@127.0.0.1:54321/dmp"
    assert env["CELERY_BROKER_URL"] == "redis://127.0.0.1:6390/0"
    assert env["CACHE_URL"] == "redis://127.0.0.1:6390/1"
    assert env["DMP_VAR_DIR"] == str(tmp_path / "var")
    assert env["EMAIL_FILE_PATH"] == str(tmp_path / "mail")
    assert env["DMP_TEST_SERVICES"] == "1"
    assert len(env["SECRET_KEY"]) == 50

    key_id, _, master = env["DMP_MASTER_KEYS"].partition(":")
    assert key_id == "test-1"
    assert len(decode_key(master)) == 32
    assert len(decode_key(env["DMP_BLIND_INDEX_KEY"])) == 32
    assert master != env["DMP_BLIND_INDEX_KEY"]
    assert len(decode_key(env["DMP_AUDIT_SIGNING_KEY"])) == 32
    assert env["DMP_AUDIT_SIGNING_KEY"] not in (master, env["DMP_BLIND_INDEX_KEY"])


def test_build_env_puts_the_servers_client_programs_first_on_path(tmp_path):
    bindir = tmp_path / "pg" / "bin"
    env = testenv.build_env({"PATH": "/usr/bin:/bin"}, tmp_path, 1, 2, pg_bindir=bindir)
    assert env["PATH"] == f"{bindir}:/usr/bin:/bin"
    assert testenv.build_env({}, tmp_path, 1, 2, pg_bindir=bindir)["PATH"] == str(bindir)


def test_pg_ctl_env_names_the_servers_files_and_user(tmp_path):
    # The drills restart the test server with pg_ctl (tests/drills/test_postgres_restart.py).
    env = testenv.pg_ctl_env(tmp_path, Path("/usr/lib/postgresql/15/bin"), "postgres")
    assert env["DMP_TEST_PG_BINDIR"] == "/usr/lib/postgresql/15/bin"
    assert env["DMP_TEST_PG_DATA"] == str(tmp_path / "pg" / "data")
    assert env["DMP_TEST_PG_LOG"] == str(tmp_path / "pg" / "postgres.log")
    assert env["DMP_TEST_PG_OS_USER"] == "postgres"
    assert testenv.pg_ctl_env(tmp_path, Path("/bin"), None)["DMP_TEST_PG_OS_USER"] == ""


def test_build_env_keys_are_readable_by_the_project_keyring(tmp_path):
    keyring = pytest.importorskip("dmp_portal.crypto.keyring")
    signing = pytest.importorskip("dmp_portal.crypto.signing")
    env = testenv.build_env({}, tmp_path, pg_port=5432, redis_port=6379)
    [key] = keyring.parse_master_keys(env["DMP_MASTER_KEYS"])
    assert key.key_id == "test-1"
    assert len(key.material) == 32
    signer = signing.parse_signing_key(env["DMP_AUDIT_SIGNING_KEY"])
    assert len(signing.key_id(signer.public_key())) == 16


def test_build_env_gives_new_keys_each_run(tmp_path):
    first = testenv.build_env({}, tmp_path, pg_port=5432, redis_port=6379)
    second = testenv.build_env({}, tmp_path, pg_port=5432, redis_port=6379)
    for name in ("DMP_MASTER_KEYS", "DMP_BLIND_INDEX_KEY", "DMP_AUDIT_SIGNING_KEY", "SECRET_KEY"):
        assert first[name] != second[name]


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["--", "python", "-m", "pytest", "-x"], ["python", "-m", "pytest", "-x"]),
        (["env"], ["env"]),
        (["--", "bash", "-c", "echo -- x"], ["bash", "-c", "echo -- x"]),
    ],
)
def test_parse_command_takes_everything_after_the_double_dash(argv, command):
    assert testenv.parse_command(argv) == command


@pytest.mark.parametrize("argv", [[], ["--"]])
def test_parse_command_without_a_command_exits_with_the_usage(argv):
    with pytest.raises(SystemExit, match="usage"):
        testenv.parse_command(argv)


@pytest.mark.parametrize(("returncode", "status"), [(0, 0), (5, 5), (-2, 130), (-15, 143)])
def test_exit_status_follows_the_shell_convention(returncode, status):
    assert testenv.exit_status(returncode) == status


def test_newest_pg_bindir_compares_versions_as_numbers(tmp_path):
    for version in ("9.6", "13", "15", "not-a-version"):
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        (bindir / "initdb").touch()
    (tmp_path / "16" / "bin").mkdir(parents=True)  # client only: no initdb
    assert testenv.newest_pg_bindir(tmp_path) == tmp_path / "15" / "bin"


def test_newest_pg_bindir_without_postgresql(tmp_path):
    assert testenv.newest_pg_bindir(tmp_path / "missing") is None


def test_conf_value_quotes_for_postgresql_conf():
    assert testenv.conf_value("/tmp/a b") == "'/tmp/a b'"
    assert testenv.conf_value("it's") == "'it''s'"
    assert testenv.conf_value("a\\b") == "'a\\\\b'"


def test_missing_redis_as_a_normal_user_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(testenv.shutil, "which", lambda name, path=None: None)
    with pytest.raises(testenv.ServiceError, match="sudo apt-get install redis-server"):
        testenv.find_redis_server(is_root=False)


def test_redis_ping_check_against_a_fake_server():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def answer_once():
            conn, _ = server.accept()
            with conn:
                if conn.recv(64) == b"PING\r\n":
                    conn.sendall(b"+PONG\r\n")

        thread = threading.Thread(target=answer_once)
        thread.start()
        assert testenv.redis_answers_ping(port) is True
        thread.join(timeout=5)
    assert testenv.redis_answers_ping(port) is False  # nothing listens any more


def test_s3_env_points_the_portal_at_the_test_bucket():
    env = testenv.s3_env(18333, "key-id", "secret")
    assert env == {
        "DMP_STORAGE": "s3",
        "DMP_S3_ENDPOINT_URL": "http://127.0.0.1:18333",
        "DMP_S3_BUCKET": testenv.S3_BUCKET,
        "DMP_S3_ACCESS_KEY_ID": "key-id",
        "DMP_S3_SECRET_ACCESS_KEY": "secret",
    }


def test_weed_listens_on_loopback_only_with_every_port_given(tmp_path):
    ports = list(range(20000, 20000 + len(testenv.WEED_PORT_FLAGS)))
    command = testenv.weed_command("/bin/weed", tmp_path, ports)
    assert command[:3] == ["/bin/weed", "mini", f"-dir={tmp_path}"]
    assert "-ip.bind=127.0.0.1" in command
    assert f"-bucket={testenv.S3_BUCKET}" in command
    assert "-s3.port=20000" in command, "the first port is the S3 endpoint"
    given = {flag[1:].split("=")[0] for flag in command[3:]}
    assert set(testenv.WEED_PORT_FLAGS) <= given, "no port left to weed's fixed defaults"
    assert len(set(testenv.WEED_PORT_FLAGS)) == len(testenv.WEED_PORT_FLAGS)
    with pytest.raises(ValueError):
        testenv.weed_command("/bin/weed", tmp_path, ports[:-1])


def test_softhsm_conf_keeps_the_tokens_in_the_given_folder_only(tmp_path):
    conf = testenv.softhsm_conf(tmp_path / "tokens")
    assert f"directories.tokendir = {tmp_path / 'tokens'}\n" in conf
    assert "objectstore.backend = file\n" in conf


def test_missing_softhsm_required_by_ci_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(testenv.shutil, "which", lambda name, path=None: None)
    with pytest.raises(testenv.ServiceError, match="apt-get install softhsm2"):
        testenv.find_softhsm(require=True)
    assert testenv.find_softhsm(require=False) is None  # the HSM tests are then skipped


def test_softhsm_is_found_with_its_pkcs11_module(monkeypatch, tmp_path):
    module = tmp_path / "libsofthsm2.so"
    module.write_bytes(b"")
    monkeypatch.setattr(testenv.shutil, "which", lambda name, path=None: f"/usr/bin/{name}")
    found = testenv.find_softhsm(require=True, modules=[str(tmp_path / "absent.so"), str(module)])
    assert found == ("/usr/bin/softhsm2-util", str(module))


def test_build_env_names_the_softhsm_token_when_one_was_initialised(tmp_path):
    hsm = {"SOFTHSM2_CONF": "/x/softhsm2.conf", "DMP_TEST_PKCS11_PIN": "1234"}
    env = testenv.build_env({}, tmp_path, 1, 2, hsm=hsm)
    assert env["SOFTHSM2_CONF"] == "/x/softhsm2.conf"
    assert env["DMP_TEST_PKCS11_PIN"] == "1234"
    assert "SOFTHSM2_CONF" not in testenv.build_env({}, tmp_path, 1, 2)
