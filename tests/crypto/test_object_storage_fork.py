"""A forked child never reuses its parent's S3 connections (two processes on one socket read
each other's answers: the bulk seed's workers got 400 Bad Request on HeadObject that way)."""

from __future__ import annotations

import multiprocessing
from typing import Any, cast

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from tests.storage_backends import s3_only

pytestmark = [s3_only, pytest.mark.django_db]


def _child_state(_index: int) -> tuple[bool, bool]:
    """In the child, before any request: no inherited connection; then a request that works."""
    storage = cast(Any, storages["default"])  # the instance default_storage wraps
    inherited = bool(vars(storage._connections))
    return inherited, storage.exists("fork-probe/exists.txt")


def test_a_forked_child_opens_its_own_connection():
    name = default_storage.save("fork-probe/exists.txt", ContentFile(b"probe"))
    try:
        assert default_storage.exists(name)  # the parent now holds a connection
        assert vars(cast(Any, storages["default"])._connections)
        # One task a child: each result is a fresh child's first request.
        with multiprocessing.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
            results = pool.map(_child_state, range(8))
        assert results == [(False, True)] * 8
    finally:
        default_storage.delete(name)
