"""Scenario tests write files (``Results/...``) relative to the working directory: run each
in its own temporary folder so the checkout stays clean."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
