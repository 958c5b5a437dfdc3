"""Every module of the product has a floor in the import contract (.importlinter, "floors").

import-linter checks only the modules a layers contract names: a module added without a floor
would escape it. The per-app contracts are exhaustive (lint-imports fails on an undeclared
module of an app); this test says the same of the contract across the apps.

import-linter does not see two things, checked here by walking the code: what a package's
``__init__`` imports (no contract places the root package itself on a floor), and a task sent
around ``dmp_portal.queueing`` (a call, not an import)."""

from __future__ import annotations

import ast
import configparser
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _contract() -> configparser.SectionProxy:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter:contract:floors"]


def _floors() -> list[set[str]]:
    floors = []
    for line in _contract()["layers"].strip().splitlines():
        names = {name.strip().strip("()") for name in re.split(r"[|:]", line)}
        floors.append({name for name in names if name})
    return floors


def _product_modules() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    modules = []
    # The benchmarks and the tests are analysed too, but stand outside the floors.
    outside = {"bench", "tests"}
    for package in config["importlinter"]["root_packages"].split():
        if package in outside:
            continue
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if "migrations" in parts or parts[-1] == "__init__":
                continue
            modules.append(".".join(parts))
    return modules


def _floor_of(module: str, floors: list[set[str]]) -> int | None:
    for number, floor in enumerate(floors):
        if any(module == name or module.startswith(f"{name}.") for name in floor):
            return number
    return None


# The package modules that import something, and the product modules they may import: each
# only inside its own package. The last three are themselves on a floor of the contract, which
# checks what they import; the first is the ground package, which imports its own Celery app.
INIT_IMPORTS = {
    # Celery's Django layout: the app is created when Django loads, so that every @shared_task
    # binds to it.
    "dmp_portal": ("dmp_portal.celery",),
    # The settings module itself (DJANGO_SETTINGS_MODULE): the floor dmp_portal.settings.
    "dmp_portal.settings": ("dmp_portal.settings", "dmp_portal.crypto"),
    # The public face of the crypto package (dmp_portal.crypto.DecryptionError...).
    "dmp_portal.crypto": ("dmp_portal.crypto",),
    # The public face of the accounts services (accounts.services.check_password_step...).
    "accounts.services": ("accounts.services",),
}


def _product_packages() -> list[str]:
    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter")
    return config["importlinter"]["root_packages"].split()


def _product_files() -> list[Path]:
    # The benchmarks and the tests are analysed too, but stand outside the floors.
    outside = {"bench", "tests"}
    return [
        path
        for package in _product_packages()
        if package not in outside
        for path in sorted((ROOT / package).rglob("*.py"))
    ]


def _imports_in(source: str, package: str) -> list[str]:
    """What the source of a module of ``package`` imports, at any depth (grimp sees them all):
    ``import x`` gives ``x``, and ``from x import y`` gives ``x.y``."""
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module != "__future__":
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            module = ".".join([*base, *([node.module] if node.module else [])])
            names += [f"{module}.{alias.name}" for alias in node.names]
    return names


def _stray_imports_of_package(package: str, source: str) -> list[str]:
    """The imports an ``__init__`` must not make: any, unless INIT_IMPORTS lets it import
    some of the product's modules (and then anything outside the product)."""
    imports = _imports_in(source, package)
    allowed = INIT_IMPORTS.get(package)
    if allowed is None:
        return imports
    product = set(_product_packages())
    return [
        name
        for name in imports
        if name.split(".")[0] in product
        and not any(name.startswith(f"{prefix}.") for prefix in allowed)
    ]


def test_every_package_module_of_the_product_imports_nothing():
    """An ``__init__`` runs before any module of its package: ``from records import views`` in
    ``access_control/__init__.py`` would load records' pages before every access_control
    module and close a circle (records.selectors asks the door) that no contract sees, since no
    floor holds a root package, nor the migrations. So a package imports nothing, bar the
    INIT_IMPORTS above."""
    inits = [path for path in _product_files() if path.name == "__init__.py"]
    assert len(inits) > 20  # the walk found the packages, the migrations' included
    strays = {}
    for path in inits:
        package = ".".join(path.relative_to(ROOT).parent.parts)
        if imports := _stray_imports_of_package(package, path.read_text()):
            strays[package] = imports
    assert strays == {}


def test_the_package_check_sees_a_stray_import():
    assert _stray_imports_of_package("access_control", "") == []
    assert _stray_imports_of_package("access_control", "from records import views\n") == [
        "records.views"
    ]
    assert _stray_imports_of_package("records.migrations", "from .. import models\n") == [
        "records.models"
    ]
    assert _stray_imports_of_package("dmp_portal", "from .celery import app\n") == []
    assert _stray_imports_of_package("accounts.services", "from accounts import views\n") == [
        "accounts.views"
    ]


# Sending a task: the one place that may do it checks that only ids travel.
SENDS = {"delay", "apply_async", "send_task"}
QUEUEING = ROOT / "dmp_portal" / "queueing.py"


def _sends_in(source: str) -> list[int]:
    """The lines of ``x.delay(...)``, ``x.apply_async(...)`` and ``send_task(...)`` calls."""
    return [
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and (
            (isinstance(node.func, ast.Attribute) and node.func.attr in SENDS)
            or (isinstance(node.func, ast.Name) and node.func.id in SENDS)
        )
    ]


def test_tasks_are_sent_through_the_queueing_helper_only():
    """``dmp_portal.queueing`` refuses anything but ids before a task is sent; a ``.delay``
    elsewhere would skip that check (and, in a service, import its task: a circle)."""
    files = [path for path in _product_files() if path != QUEUEING]
    assert len(files) > 100
    assert _sends_in(QUEUEING.read_text()) != []  # the helper itself is seen
    sends = [
        f"{path.relative_to(ROOT)}:{line}" for path in files for line in _sends_in(path.read_text())
    ]
    assert sends == []


def test_the_queueing_check_sees_every_way_of_sending():
    source = "task.delay(1)\ntask.s(1).apply_async()\napp.send_task('x')\nsend_task('x')\n"
    assert _sends_in(source) == [1, 2, 3, 4]
    assert _sends_in("enqueue('x.tasks.y', 1)\n") == []


def test_every_module_of_the_product_has_a_floor():
    floors = _floors()
    modules = _product_modules()
    assert len(modules) > 100  # the walk found the product
    assert [module for module in modules if _floor_of(module, floors) is None] == []


def test_the_check_sees_a_module_without_a_floor():
    floors = _floors()
    assert _floor_of("records.views", floors) is not None
    assert _floor_of("records.new_module_nobody_placed", floors) is None
    assert _floor_of("dmp_portal.crypto.fields", floors) == len(floors) - 1


def test_the_domain_door_and_trail_floors_are_type_checked_strictly():
    """Every module from the first domain floor (services) down to the audit trail's floor is in
    the strict block of pyproject.toml (every function fully annotated): a module placed on
    those floors without being added there fails here."""
    floors = _floors()
    first = next(n for n, floor in enumerate(floors) if any(f.endswith(".services") for f in floor))
    last = next(n for n, floor in enumerate(floors) if "audit.trail" in floor)
    overrides = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["overrides"]
    strict = next(o["module"] for o in overrides if o.get("disallow_untyped_defs"))
    # mypy's patterns: a "*" stands for zero or more whole components ("*.services.*").
    patterns = [
        re.compile(
            "".join(
                r"(\.[^.]+)*" if part == "*" else r"\." + re.escape(part)
                for part in pattern.split(".")
            )
        )
        for pattern in strict
    ]
    on_floors = [
        module
        for module in _product_modules()
        if (floor := _floor_of(module, floors)) is not None and first <= floor <= last
    ]
    assert {"access_control.policy", "audit.trail", "enrollment.services.registry"} <= set(
        on_floors
    )
    assert [m for m in on_floors if not any(p.fullmatch(f".{m}") for p in patterns)] == []
    # The check sees a module nobody listed, and the interfaces stay outside the block.
    assert not any(p.fullmatch(".records.new_helper_nobody_listed") for p in patterns)
    assert not any(p.fullmatch(".records.views") for p in patterns)
