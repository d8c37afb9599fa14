"""Every public name is exported, documented, and importable from where the docs say."""

from __future__ import annotations

import importlib
import inspect
import types

import pytest

import mixtrack

PUBLIC_MODULES = [
    "mixtrack",
    "mixtrack.errors",
    "mixtrack.jobs",
    "mixtrack.transport",
    "mixtrack.protocol.routes",
    "mixtrack.protocol.limits",
    "mixtrack.protocol.messages",
    "mixtrack.protocol.exposure",
    "mixtrack.testing",
    "mixtrack.exposure",
    "mixtrack.flags",
    "mixtrack.compat",
    "mixtrack.audit",
    "mixtrack.importer",
    "mixtrack.demo",
    "mixtrack.protocol.identity",
    "mixtrack.web",
    "mixtrack_flask",
    "mixtrack_fastapi",
    "mixtrack_flags",
    "mixtrack_celery",
    "mixtrack_rq",
    "mixtrack.web.visible",
]


@pytest.mark.parametrize("module_name", PUBLIC_MODULES)
def test_all_names_exist_and_have_docstrings(module_name):
    module = importlib.import_module(module_name)
    assert len(set(module.__all__)) == len(module.__all__)
    for name in module.__all__:
        value = getattr(module, name)
        # A type alias such as Callable[[str], str] passes isclass() on Python 3.10.
        alias = isinstance(value, types.GenericAlias)
        if alias or not (inspect.isclass(value) or inspect.isfunction(value)):
            continue  # constants and type aliases
        assert value.__doc__, f"{module_name}.{name} has no docstring"


def test_the_design_names_are_exported():
    for name in [
        "Client",
        "Config",
        "Stats",
        "FlushResult",
        "context",
        "MixtrackError",
        "ConfigError",
        "ValidationError",
        "DeliveryError",
        "TransportError",
        "FlushAfter",
        "AsyncFlushAfter",
    ]:
        assert name in mixtrack.__all__


def test_exception_tree():
    assert issubclass(mixtrack.ConfigError, mixtrack.MixtrackError)
    assert issubclass(mixtrack.ValidationError, mixtrack.MixtrackError)
    assert issubclass(mixtrack.TransportError, mixtrack.DeliveryError)
    assert issubclass(mixtrack.DeliveryError, mixtrack.MixtrackError)


def test_exceptions_nothing_raises_are_importable_but_not_exported():
    for name in ("HTTPStatusError", "RetriesExhausted"):
        assert name not in mixtrack.__all__ and name not in mixtrack.errors.__all__
        with pytest.warns(DeprecationWarning, match=name):
            cls = getattr(mixtrack, name)
        assert issubclass(cls, mixtrack.DeliveryError)


def test_the_job_integrations_export_their_design_names():
    import mixtrack_celery
    import mixtrack_rq

    assert "instrument" in mixtrack_celery.__all__
    assert "Worker" in mixtrack_rq.__all__
    assert callable(mixtrack.Client.flush_after)
    assert callable(mixtrack.AsyncClient.flush_after)


def test_the_web_layer_names_are_exported():
    import mixtrack_fastapi

    import mixtrack.web

    for name in [
        "WebApp",
        "RequestTracker",
        "RequestInfo",
        "OPTIONS",
        "Endpoints",
        "read_settings",
    ]:
        assert name in mixtrack.web.__all__
    for name in ["Mixtrack", "get_tracker", "CurrentTracker"]:
        assert name in mixtrack_fastapi.__all__


def test_the_exposure_when_visible_names_are_there():
    from mixtrack_django.templatetags.mixtrack import register

    import mixtrack.web.visible as visible
    from mixtrack.testing import capture

    assert {"experiment", "exposure_attrs", "mixtrack_script"} <= set(register.tags)
    events = capture()
    app = mixtrack.web.WebApp(events.client, flags={"x": {"a": 100}}, secret="s")
    assert {"experiment", "exposure_attrs", "mixtrack_script"} <= set(app.helpers)
    assert app.endpoints.match("GET", visible.SCRIPT_PATH) is not None
    assert app.endpoints.match("POST", visible.ENDPOINT_PATH) is not None
    events.client.shutdown()
