"""Fixtures of the import engine's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def media(settings, tmp_path):
    """Uploaded files go to a fresh MEDIA_ROOT; returns its imports/ folder."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media" / "imports"


def stored_files(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("*")) if folder.exists() else []
