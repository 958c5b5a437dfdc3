"""Typed reading of the environment.

Every setting comes from the environment so that the same code runs in development, tests and
production. Values are parsed strictly: a typo in a boolean must stop the service, not silently
turn a security switch off. Secrets may also be given as ``NAME_FILE`` (a path), the convention of
Docker and Kubernetes secrets, so that they need not sit in the process environment.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Mapping
from pathlib import Path
from typing import overload

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"true"}
_FALSE = {"false"}


class Env:
    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self.environ = os.environ if environ is None else environ

    def _raw(self, name: str) -> str | None:
        value = self.environ.get(name)
        file_path = self.environ.get(f"{name}_FILE")
        if value is not None and file_path is not None:
            raise ImproperlyConfigured(f"Set either {name} or {name}_FILE, not both.")
        if file_path is not None:
            try:
                return Path(file_path).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ImproperlyConfigured(
                    f"{name}_FILE points to {file_path!r}, which cannot be read: {exc.strerror}."
                ) from exc
        return value

    # The methods below are named after the builtins they return, so from here on the class body
    # spells the builtin types as ``builtins.str`` etc. A default that is a string guarantees a
    # string: the overloads tell the type checker so.
    @overload
    def str(self, name: builtins.str, default: builtins.str) -> builtins.str: ...
    @overload
    def str(self, name: builtins.str, default: None = None) -> builtins.str | None: ...
    def str(self, name: builtins.str, default: builtins.str | None = None) -> builtins.str | None:
        value = self._raw(name)
        if value is None or value == "":
            return default
        return value

    def line(self, name: builtins.str, default: builtins.str) -> builtins.str:
        """One line of text shown to people (a name, a phone number): trimmed, and refused when
        it holds a line break or a control character, which would break a page or a letter."""
        value = self.str(name, default).strip()
        if any(ord(character) < 32 or ord(character) == 127 for character in value):
            raise ImproperlyConfigured(f"{name} holds a line break or a control character.")
        return value

    def bool(self, name: builtins.str, default: builtins.bool) -> builtins.bool:
        value = self._raw(name)
        if value is None or value == "":
            return default
        lowered = value.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")

    def int(self, name: builtins.str, default: builtins.int) -> builtins.int:
        value = self._raw(name)
        if value is None or value == "":
            return default
        try:
            return int(value.strip())
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from exc

    def list(
        self, name: builtins.str, default: builtins.list[builtins.str] | None = None
    ) -> builtins.list[builtins.str]:
        value = self._raw(name)
        if value is None or value.strip() == "":
            return list(default or [])
        return [item.strip() for item in value.split(",") if item.strip()]

    def choice(
        self, name: builtins.str, choices: tuple[builtins.str, ...], default: builtins.str
    ) -> builtins.str:
        value = self.str(name, default)
        if value not in choices:
            raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
        return value
