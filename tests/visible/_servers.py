"""Each test app on a real server, in its own process, sending to the real collector."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests._redis import free_port

ROOT = Path(__file__).resolve().parents[2]

COMMANDS = {
    "django": ["-m", "gunicorn", "-w", "1", "--threads", "4", "-b", "127.0.0.1:{port}",
               "tests.visible.apps.django_site:application"],
    "flask": ["-m", "gunicorn", "-w", "1", "--threads", "4", "-b", "127.0.0.1:{port}",
              "tests.visible.apps.flask_app:create_app()"],
    "fastapi": ["-m", "uvicorn", "--host", "127.0.0.1", "--port", "{port}", "--no-access-log",
                "--factory", "tests.visible.apps.fastapi_app:create_app"],
}  # fmt: skip


@contextmanager
def serve(kind: str, api_host: str, log_dir: Path) -> Iterator[str]:
    """Start the ``kind`` app on a free port; yield its URL once it answers; stop it."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MIXTRACK_", "DJANGO_"))}
    env.update(
        MIXTRACK_API_HOST=api_host,
        MIXTRACK_TOKEN="visible-token",
        MIXTRACK_FLUSH_INTERVAL="0.05",
        DJANGO_SETTINGS_MODULE="tests.visible.apps.django_site",
        PYTHONPATH=str(ROOT),
        NO_PROXY="127.0.0.1,localhost",
    )
    command = [sys.executable, *[arg.format(port=port) for arg in COMMANDS[kind]]]
    log = log_dir / f"{kind}-{port}.log"
    env["MIXTRACK_TEST_DB"] = str(log_dir / f"{kind}-{port}.sqlite3")  # Django's users
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30.0
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{kind} server exited: {log.read_text()[-3000:]}")
                try:
                    if httpx.get(url + "/_test/stats", timeout=1.0, trust_env=False).is_success:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{kind} server did not answer: {log.read_text()[-3000:]}")
                time.sleep(0.1)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
