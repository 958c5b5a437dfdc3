"""Every module of the product has a floor in the import contract (.importlinter, "floors").

import-linter checks only the modules a layers contract names: a module added without a floor
would escape it. The per-app contracts are exhaustive (lint-imports fails on an undeclared
module of an app); this test says the same of the contract across the apps."""

from __future__ import annotations

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
