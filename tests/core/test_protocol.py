"""The protocol layer: pure facts about Mixpanel that the SDK, the collector and the audit
share; their examples run, and the SDK's rules come from it."""

from __future__ import annotations

import doctest
import importlib

import pytest

import mixtrack
from mixtrack import Config
from mixtrack.exposure import EXPOSURE_EVENT
from mixtrack.protocol import exposure, limits, messages, routes

PURE = [
    "mixtrack.protocol.routes",
    "mixtrack.protocol.limits",
    "mixtrack.protocol.messages",
    "mixtrack.protocol.exposure",
    "mixtrack._delivery.circuit",
    "mixtrack._delivery.records",
]


@pytest.mark.parametrize("name", PURE)
def test_the_examples_in_the_docstrings_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_sdk_follows_the_protocol_layer():
    config = Config(token="t")
    assert config.batch_size == limits.MAX_BATCH
    assert config.max_batch_bytes == limits.MAX_BATCH_BYTES
    assert (config.backoff_initial, config.max_backoff) == (limits.RETRY_INITIAL, limits.RETRY_MAX)
    assert EXPOSURE_EVENT == exposure.EXPOSURE_EVENT == "$experiment_started"
    for placeholder in ("null", " Undefined ", "0"):
        assert messages.is_denied_id(placeholder)
        with pytest.raises(mixtrack.ValidationError, match="placeholder"):
            mixtrack.Client("t", api_host="http://127.0.0.1:9", invalid="raise").track(
                placeholder, "E"
            )
    assert set(routes.ROUTES) == {"import", "track", "engage", "groups"}
    assert not routes.is_form_route("import")
