from __future__ import annotations

from collections.abc import Iterator

import pytest

from mixtrack import _hints


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test starts without MIXTRACK_* variables and with no lookalike warned yet."""
    import os

    for name in list(os.environ):
        if name.startswith("MIXTRACK_") and not name.startswith("MIXTRACK_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_hints, "_warned", set())
    yield
