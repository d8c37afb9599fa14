"""``mixtrack demo``: collector + example shop + simulated visitors, then the experiment audit.

Both shops ship in the package: the Django one as :mod:`mixtrack.demo.shop`, the Flask one
(``examples/flask_shop`` of the repository) as ``mixtrack.demo.flask_shop`` in the wheel, so
the demo runs in any folder where ``mixtrack[demo]`` is installed (``mixtrack[django]`` is
enough for the default). A failed run prints the shop's own last lines; nothing is left behind
but the collector's database.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

import httpx

from mixtrack._progress import ProgressBar
from mixtrack.demo._traffic import Traffic, TrafficReport
from mixtrack.errors import ConfigError

__all__ = ["find_checkout", "run_demo", "shop_module"]

TOKEN = "shop-demo-token"
EXPERIMENT = "pricing_page_layout"


def find_checkout(start: Path | None = None) -> Path | None:
    """The mixtrack checkout holding ``examples/``, from ``start`` (default: this package's
    folder) upwards, or None when mixtrack is installed from a wheel."""
    here = (start or Path(__file__).parent).resolve()
    for folder in (here, *here.parents):
        if (folder / "examples" / "SHOP.md").is_file():
            return folder
    return None


#: The modules each shop needs, and the extra that installs them.
_NEEDS = {"django": ("django",), "flask": ("flask", "flask_login")}


def shop_module(shop: str) -> tuple[str, Path | None]:
    """The module that serves ``shop`` and the folder to run it from (None: anywhere)."""
    missing = [name for name in _NEEDS[shop] if importlib.util.find_spec(name) is None]
    if missing:
        extra = "mixtrack[django]" if shop == "django" else "mixtrack[demo]"
        raise ConfigError(
            f"the {shop} shop needs {', '.join(missing)}: pip install '{extra}' "
            "(in a checkout, `make demo` sets up .venv-demo with both shops)"
        )
    if shop == "django":
        return "mixtrack.demo.shop", None
    if importlib.util.find_spec("mixtrack.demo.flask_shop") is not None:
        return "mixtrack.demo.flask_shop", None  # installed from the wheel
    root = find_checkout()
    if root is None:
        raise ConfigError("this mixtrack install has no Flask shop: pip install 'mixtrack[demo]'")
    return "examples.flask_shop", root


def _free_port(preferred: int) -> int:
    for port in dict.fromkeys((preferred, 0)):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(sock.getsockname()[1])
    raise OSError("no free port on 127.0.0.1")


def _log_tail(log_path: Path, lines: int = 15) -> str:
    try:
        text = log_path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("  | " + line for line in text.splitlines()[-lines:])


def _wait_healthy(
    url: str, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the example shop exited with status {process.returncode}; its last lines:\n"
                + _log_tail(log_path)
            )
        try:
            if httpx.get(f"{url}/health", timeout=1, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the example shop did not answer {url}/health within {timeout:.0f}s")


def _start_shop(shop: str, port: int, api_host: str, log_path: Path) -> subprocess.Popen[bytes]:
    # a fresh shop database each run, so the simulated visitors can sign up again
    shop_db = log_path.parent / "shop.sqlite3"
    env = {
        **os.environ,
        "MIXTRACK_API_HOST": api_host,
        "MIXTRACK_TOKEN": TOKEN,
        "SHOP_DB": str(shop_db),  # the Django shop's
        "SHOP_DATABASE": str(shop_db),  # the Flask shop's
        "PYTHONUNBUFFERED": "1",
    }
    module, root = shop_module(shop)
    log = open(log_path, "wb")  # noqa: SIM115 - lives as long as the shop
    return subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port)],
        cwd=root or log_path.parent,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def _stop(process: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)  # the shop's client drains at exit
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def summary_lines(events: list[dict[str, Any]]) -> list[str]:
    """Events by name and exposures by variant, from what the collector stored."""
    names = Counter(e["event"] for e in events)
    lines = ["events received:"]
    lines += [f"  {count:>6,}  {name}" for name, count in names.most_common()]
    exposures = [
        e
        for e in events
        if e["event"] == "$experiment_started"
        and e["properties"].get("Experiment name") == EXPERIMENT
    ]
    per_user = Counter(e["properties"]["distinct_id"] for e in exposures)
    variants = Counter(e["properties"].get("Variant name") for e in exposures)
    lines.append(
        f"{EXPERIMENT}: {len(per_user):,} exposed users, "
        f"{sum(1 for n in per_user.values() if n > 1)} exposed more than once"
    )
    lines += [f"  {variant}: {count:,}" for variant, count in sorted(variants.items())]
    return lines


def run_demo(
    *,
    shop: str = "django",
    visitors: int = 300,
    port: int = 8765,
    db: str = "mixtrack-demo.sqlite3",
    wait: bool = True,
    out: TextIO = sys.stdout,
) -> int:
    """Runs the whole demo; returns the process exit code."""
    shop_module(shop)  # a missing dependency is one line, before anything starts
    folder = Path(tempfile.mkdtemp(prefix="mixtrack-demo-"))
    try:
        return _run(shop, visitors, port, db, wait, out, folder)
    except BaseException:
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(
    shop: str, visitors: int, port: int, db: str, wait: bool, out: TextIO, folder: Path
) -> int:
    from mixtrack.collector._app import CollectorApp
    from mixtrack.collector._server import CollectorServer
    from mixtrack.collector._sqlite import SqliteStore

    log_path = folder / f"{shop}-shop.log"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    server = CollectorServer(CollectorApp(SqliteStore(db)), "127.0.0.1", _free_port(port)).start()
    try:
        return _drive(server, shop, visitors, db, wait, out, log_path)
    finally:
        server.stop(timeout=5)


def _drive(
    server: Any, shop: str, visitors: int, db: str, wait: bool, out: TextIO, log_path: Path
) -> int:
    print(f"collector: {server.url} (SQLite: {db})", file=out)
    shop_port = _free_port(8000 if shop == "django" else 8001)
    shop_url = f"http://127.0.0.1:{shop_port}"
    process = _start_shop(shop, shop_port, server.url, log_path)
    try:
        _wait_healthy(shop_url, process, log_path)
        print(f"example shop ({shop}): {shop_url}", file=out)
        print(f"simulating {visitors} visitors...", file=out, flush=True)
        bar = ProgressBar(visitors, "visitors", out)
        traffic = Traffic(shop_url, visitors)
        report = traffic.run(lambda done: bar.update(done, _note(traffic.report)))
        bar.update(visitors, _note(report), final=True)
    finally:
        _stop(process)
    events = _all_events(server.url)
    print(f"\nlive view: {server.live_url}", file=out)
    for line in summary_lines(events):
        print(line, file=out)
    print(_audit_text(server.url), file=out)
    if report.errors:
        print(
            f"warning: {report.errors} requests to the shop failed; its last lines:\n"
            + _log_tail(log_path),
            file=out,
        )
    out.flush()
    if wait:
        print("\ncollector still running: open the live view; Ctrl-C to stop", file=out, flush=True)
        try:
            while True:
                time.sleep(1)
        except KeyboardInterrupt:
            pass
    return 0 if not report.errors else 1


def _note(report: TrafficReport) -> str:
    return f"{report.signups} sign-ups  {report.orders} orders  {report.requests:,} requests"


def _all_events(url: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
        while True:
            page = http.get("/_mixtrack/events", params={"limit": 10000, "after": after}).json()
            found.extend(page["events"])
            if page["count"] < 10000:
                return found
            after = page["after"]


def _audit_text(url: str) -> str:
    """The experiment audit and readout, as the collector computes them."""
    with httpx.Client(base_url=url, trust_env=False, timeout=30) as http:
        response = http.get(
            "/_mixtrack/audit",
            params={
                "experiment": EXPERIMENT,
                "metric": "Order completed",
                "value_property": "revenue",
                "control": "grid",
                "weights": "grid=50,list=50",
            },
        )
    if response.status_code != 200:
        return f"(audit unavailable: HTTP {response.status_code}: {response.text[:200]})"
    text: str = response.json()["text"]
    return text
