"""The examples in the tracking plan's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "mixtrack.plan",
    "mixtrack.plan._check",
    "mixtrack.plan._codegen",
    "mixtrack.plan._infer",
    "mixtrack.plan._lexicon",
    "mixtrack.plan._lint",
    "mixtrack.plan._names",
    "mixtrack.plan._plan",
    "mixtrack.plan._schema",
    "mixtrack.plan._send",
    "mixtrack._processors",
    "mixtrack.audit._tracking_plan",
]


@pytest.mark.parametrize("name", MODULES)
def test_the_examples_in_the_docstrings_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0
