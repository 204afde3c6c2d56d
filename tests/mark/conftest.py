"""Fixtures for the mark tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from hallmark.mark.gb45438 import KeyStore


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    """The GB 45438 key store (the implicit labels' signing key), empty, in the test's folder.
    A module that needs another key store (the watermark's) defines its own ``keys``."""
    return KeyStore(tmp_path / "keys")
