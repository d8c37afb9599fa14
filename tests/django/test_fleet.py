"""Two Django servers, one cache ledger (Redis) and one database: a person is exposed once.

Each server is its own gunicorn process, as two hosts behind a load balancer would be; the
visitors' cookie jars send to both (cookies do not depend on the port).
"""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import redis

from tests._agents import PERSON
from tests.django.conftest import ROOT, server_env

EXPOSURE = "$experiment_started"
GUNICORN = [
    "-m", "gunicorn", "tests.django.wsgi:application", "--workers", "1", "--threads", "4",
    "--bind", "127.0.0.1:{port}", "--graceful-timeout", "10", "--log-level", "warning",
]  # fmt: skip
_MIGRATE = (
    "import django; django.setup(); "
    "from django.core.management import call_command; call_command('migrate', verbosity=0); "
    "from django.contrib.auth.models import User; "
    "User.objects.create_user('fleet', password='pw-fleet')"
)


def _layout(page: httpx.Response) -> str:
    assert page.status_code == 200, page.text
    return page.text.split('<p id="layout">', 1)[1].split("<", 1)[0]


def _shared_database(path: Path) -> None:
    """A migrated SQLite file both servers use, holding one user."""
    env = server_env(MIXTRACK_TEST_DB=str(path))
    subprocess.run([sys.executable, "-c", _MIGRATE], cwd=ROOT, env=env, check=True, timeout=120)


def test_two_servers_on_one_cache_ledger_expose_a_person_once(
    mixtrack_collector: Any, redis_url: str, start_server: Any, tmp_path: Path
) -> None:
    database = tmp_path / "shared.sqlite3"
    _shared_database(database)
    cache_url = redis_url.rsplit("/", 1)[0] + "/7"  # a database of its own: user ids restart
    redis.Redis.from_url(cache_url).flushdb()
    env = {
        "MIXTRACK_API_HOST": mixtrack_collector.url,
        "MIXTRACK_TEST_REDIS_URL": cache_url,
        "MIXTRACK_TEST_DB": str(database),
    }
    first, second = start_server(GUNICORN, **env), start_server(GUNICORN, **env)
    assert first.process.pid != second.process.pid

    def client() -> httpx.Client:
        return httpx.Client(headers=PERSON, trust_env=False, timeout=20)

    with client() as phone, client() as laptop, client() as tablet:
        # An anonymous visitor's pages, at once on both servers.
        shown = _layout(phone.get(first.url + "/pricing"))
        device = phone.get(first.url + "/whoami").json()["anon_id"]
        with ThreadPoolExecutor(max_workers=4) as pool:
            pages = list(
                pool.map(lambda url: phone.get(url + "/pricing"), [first.url, second.url] * 4)
            )
        assert {_layout(page) for page in pages} == {shown}

        # The person logs in on another browser (that device is linked to the user)...
        login = laptop.post(
            second.url + "/login", data={"username": "fleet", "password": "pw-fleet"}
        )
        user_id = login.json()["distinct_id"]
        session = laptop.cookies["sessionid"]
        # ...and the session reaches the phone by a way the middleware never sees (an SSO
        # callback, a session restored by another app): the user id plus the phone's device.
        phone.cookies.set("sessionid", session)
        assert phone.get(second.url + "/whoami").json()["distinct_id"] == user_id
        assert _layout(phone.get(second.url + "/pricing")) == shown
        # The user on a third device, on the other server, and on the laptop: the same person.
        tablet.cookies.set("sessionid", session)
        assert _layout(tablet.get(first.url + "/pricing")) == shown
        assert _layout(laptop.get(first.url + "/pricing")) == shown

    mixtrack_collector.wait_for(12, "Viewed pricing", timeout=15)
    assert first.stop() == 0 and second.stop() == 0  # each drains its client on the way out
    exposures = mixtrack_collector.events(EXPOSURE)
    assert [e["properties"]["distinct_id"] for e in exposures] == [device], exposures
    assert exposures[0]["properties"]["Variant name"] == shown
