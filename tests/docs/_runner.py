"""Runs one page's samples in order, in one namespace, in a fresh process (see the test module).

Usage: ``python _runner.py PLAN.json`` from the page's scratch directory. The plan lists the
blocks (already pointed at the test collector). Exit status 0 when every block ran and every
printed output matched; otherwise the failing block is named on stderr.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_LOCAL = frozenset({"127.0.0.1", "::1", "localhost"})

# What a Django project has before the page's settings fragments are applied to it.
DJANGO_BASE = """
SECRET_KEY = "docs-samples-not-secret"
DEBUG = True
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
ROOT_URLCONF = "docs_urls"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"]
MIDDLEWARE = []
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates",
              "DIRS": ["templates"], "APP_DIRS": True,
              "OPTIONS": {"context_processors": []}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
"""


def guard_network() -> None:
    """Samples may reach this machine only: refuse any other connection or name lookup."""
    real_connect, real_getaddrinfo = socket.socket.connect, socket.getaddrinfo

    def check(host: Any) -> None:
        if isinstance(host, (bytes, str)) and host not in _LOCAL and not str(host).startswith("/"):
            raise OSError(f"docs samples reach 127.0.0.1 only, not {host!r}")

    def connect(self: socket.socket, address: Any) -> None:
        if isinstance(address, tuple):
            check(address[0])
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None:
            check(host)
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


class Page:
    def __init__(self, plan: dict[str, Any]) -> None:
        self.plan = plan
        self.namespace: dict[str, Any] = {"__name__": "__docs__"}
        self.settings: dict[str, Any] = {}
        exec(DJANGO_BASE, self.settings)
        self.settings_blocks: list[str] = []
        self.django_ready = False
        self.last_output = ""

    def run(self) -> None:
        for block in self.plan["blocks"]:
            try:
                getattr(self, "run_" + block["mode"].replace("-", "_"))(block)
            except BaseException as exc:  # report which sample, then fail
                print(f"\n{block['where']}: sample failed ({block['mode']}):", file=sys.stderr)
                print(textwrap.indent(block["code"], "    | "), file=sys.stderr)
                traceback.print_exception(exc, file=sys.stderr)
                raise SystemExit(1) from None
        with contextlib.suppress(Exception):
            for name in ("client", "mt"):
                client = self.namespace.get(name)
                if hasattr(client, "shutdown"):
                    client.shutdown(timeout=5.0)

    # -- modes ---------------------------------------------------------------------------

    def run_session(self, block: dict[str, Any]) -> None:
        if self.settings_blocks and not self.django_ready:
            self.setup_django()
        out = io.StringIO()
        tee = _Tee(out, sys.stdout)
        with contextlib.redirect_stdout(tee):  # type: ignore[type-var]
            exec(compile(block["code"], block["where"], "exec"), self.namespace)
        self.last_output = out.getvalue()

    def run_output(self, block: dict[str, Any]) -> None:
        pattern = ".*".join(re.escape(part) for part in block["code"].strip().split("..."))
        got = "\n".join(line.rstrip() for line in self.last_output.strip().splitlines())
        if not re.fullmatch(pattern, got, re.DOTALL):
            raise AssertionError(f"printed:\n{got}\n\nthe page says:\n{block['code']}")

    def run_django_settings(self, block: dict[str, Any]) -> None:
        exec(compile(block["code"], block["where"], "exec"), self.settings)
        self.settings_blocks.append(block["code"])
        # Each fragment must make a project that passes Django's checks on its own.
        check = subprocess.run(
            [sys.executable, __file__, "--django-check"],
            input="\n".join([DJANGO_BASE, *self.settings_blocks]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check.returncode != 0:
            raise AssertionError(f"manage.py check failed:\n{check.stdout}{check.stderr}")

    def setup_django(self) -> None:
        import django
        from django.conf import settings

        Path("docs_urls.py").write_text("urlpatterns = []\n")
        sys.path.insert(0, os.getcwd())
        settings.configure(**{k: v for k, v in self.settings.items() if k.isupper()})
        django.setup()
        self.django_ready = True

    def run_pytest(self, block: dict[str, Any], extra: list[str] | None = None) -> None:
        name = "test_" + re.sub(r"\W", "_", block["where"]) + ".py"
        Path(name).write_text(block["code"])
        Path("conftest.py").write_text(CONFTEST)
        tests = len(re.findall(r"^(?:async )?def test_", block["code"], re.M))
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(extra or []), name],
            capture_output=True,
            text=True,
            timeout=240,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([os.getcwd(), str(ROOT)])},
        )
        if run.returncode != 0 or f"{tests} passed" not in run.stdout:
            raise AssertionError(f"expected {tests} passed:\n{run.stdout}\n{run.stderr}")

    def run_pytest_django(self, block: dict[str, Any]) -> None:
        self.run_pytest(block, ["-p", "pytest_django", "--ds", "tests.django.settings"])

    def run_bash(self, block: dict[str, Any]) -> None:
        run = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block["code"]],
            capture_output=True,
            text=True,
            timeout=240,
        )
        self.last_output = run.stdout
        sys.stdout.write(run.stdout)
        if run.returncode != 0:
            raise AssertionError(f"exit {run.returncode}:\n{run.stdout}\n{run.stderr}")


# Fixtures the pytest samples take from "your own suite": they stand for the reader's code.
CONFTEST = '''
import pytest

from tests.docs._runner import guard_network

guard_network()


@pytest.fixture
def run_checkout_flows(mixtrack_client):
    """Stands for an app's end-to-end flows: 40 visitors, each exposed once, half buy."""
    from mixtrack.exposure import Experiments, MemoryLedger
    from mixtrack.flags import StaticFlags

    flags = StaticFlags({"checkout_redesign": {"control": 50, "treatment": 50}})
    experiments = Experiments(mixtrack_client, flags, ledger=MemoryLedger())
    for n in range(40):
        user = f"user-{n}"
        mixtrack_client.track(user, "Viewed checkout")
        experiments.variant(user, "checkout_redesign").expose()
        if n % 2:
            mixtrack_client.track(user, "Order completed", {"revenue": 29.0})
    mixtrack_client.flush()
'''


class _Tee(io.TextIOBase):
    def __init__(self, *streams: Any) -> None:
        self.streams = streams

    def write(self, text: str) -> int:
        for stream in self.streams:
            stream.write(text)
        return len(text)

    def flush(self) -> None:
        for stream in self.streams:
            stream.flush()


def django_check() -> int:
    import django
    from django.conf import settings
    from django.core.management import call_command
    from django.template import engines

    Path("docs_urls.py").write_text("urlpatterns = []\n")
    sys.path.insert(0, os.getcwd())
    namespace: dict[str, Any] = {}
    exec(sys.stdin.read(), namespace)
    settings.configure(**{k: v for k, v in namespace.items() if k.isupper()})
    django.setup()
    call_command("check", fail_level="WARNING")
    for engine in engines.all():  # every configured template engine loads
        engine.from_string("ok")
    return 0


def main() -> int:
    guard_network()
    if sys.argv[1] == "--django-check":
        return django_check()
    Page(json.loads(Path(sys.argv[1]).read_text())).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
