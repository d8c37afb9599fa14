"""Every public name is exported, documented, and importable from where the docs say."""

from __future__ import annotations

import importlib
import inspect

import pytest

import mixtrack

PUBLIC_MODULES = [
    "mixtrack",
    "mixtrack.errors",
    "mixtrack.transport",
    "mixtrack.testing",
    "mixtrack.exposure",
    "mixtrack.flags",
    "mixtrack.compat",
    "mixtrack.audit",
    "mixtrack.importer",
    "mixtrack.demo",
    "mixtrack.protocol.identity",
    "mixtrack_flask",
    "mixtrack_flags",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_names_exist_and_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        if not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants and type aliases
        assert value.__doc__, f"{module_name}.{name} has no docstring"


def test_the_design_names_are_exported():
    for name in [
        "Client",
        "Config",
        "Stats",
        "context",
        "MixtrackError",
        "ConfigError",
        "ValidationError",
        "DeliveryError",
        "TransportError",
        "HTTPStatusError",
        "RetriesExhausted",
    ]:
        assert name in mixtrack.__all__


def test_exception_tree():
    assert issubclass(mixtrack.ConfigError, mixtrack.MixtrackError)
    assert issubclass(mixtrack.ValidationError, mixtrack.MixtrackError)
    for cls in (mixtrack.TransportError, mixtrack.HTTPStatusError, mixtrack.RetriesExhausted):
        assert issubclass(cls, mixtrack.DeliveryError)
        assert issubclass(cls, mixtrack.MixtrackError)
