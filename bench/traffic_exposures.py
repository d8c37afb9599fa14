"""Exposures per 1,000 requests of a mixed workload: people, crawlers, background loads.

Runs one Flask app (the ``mixtrack_flask`` adapter, events captured in memory) against a
seeded workload and counts ``$experiment_started``. With ``--against DIR`` it runs the same
workload on the mixtrack checkout in DIR too (say, the main branch), in a subprocess, so
both figures come from one run:

    python -m bench.traffic_exposures --against /path/to/other/checkout

The workload, per 1,000 requests: 600 people (one page each), 200 crawlers (Googlebot,
GPTBot, ClaudeBot, UptimeRobot, Slackbot), 150 prefetches of which the visitor opens 75
(the browser shows the prefetched page; mixtrack's script then posts its activation token),
and 50 people whose browser sends ``Sec-GPC: 1``. People who saw the page: 675.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0"
CRAWLERS = (
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
    "+https://openai.com/gptbot)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; "
    "+claudebot@anthropic.com)",
    "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
)
PAGE = (
    '{% set offer = experiment("offer") %}<div id="offer">{{ offer }}</div>{{ mixtrack_script() }}'
)
_ACTIVATION = re.compile(r'data-activation="([^"]+)"')


def _workload(seed: int) -> list[str]:
    kinds = ["person"] * 600 + ["crawler"] * 200 + ["prefetch-shown"] * 75
    kinds += ["prefetch-unseen"] * 75 + ["gpc"] * 50
    random.Random(seed).shuffle(kinds)
    return kinds


def run(seed: int) -> dict[str, Any]:
    """Serve the workload on the mixtrack importable here; count what was sent."""
    import mixtrack_flask
    from flask import Flask, render_template_string

    from mixtrack.testing import capture

    captured = capture()
    app = Flask(__name__)
    app.config.update(SECRET_KEY="bench", MIXTRACK_FLAGS={"offer": {"a": 50, "b": 50}})
    mixtrack_flask.Mixtrack(app, client=captured.client)
    app.add_url_rule("/", "page", lambda: render_template_string(PAGE))
    rng = random.Random(seed)
    requests = 0
    for kind in _workload(seed):
        http = app.test_client()
        headers = {"User-Agent": FIREFOX}
        if kind == "crawler":
            headers["User-Agent"] = rng.choice(CRAWLERS)
        elif kind == "gpc":
            headers["Sec-GPC"] = "1"
        elif kind.startswith("prefetch"):
            headers["Sec-Purpose"] = "prefetch"
        html = http.get("/", headers=headers).get_data(as_text=True)
        requests += 1
        token = _ACTIVATION.search(html)
        if kind == "prefetch-shown" and token is not None:
            # The browser shows the prefetched page: only the script's post goes out.
            http.post(
                "/_mixtrack/activate",
                data=token.group(1),
                headers={"User-Agent": FIREFOX, "Content-Type": "text/plain"},
            )
    captured.client.flush(timeout=10)
    exposures = sum(1 for event in captured if event["event"] == "$experiment_started")
    return {"page_requests": requests, "exposures": exposures, "people_who_saw_it": 675}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=22)
    parser.add_argument("--against", help="another mixtrack checkout to run the same workload on")
    parser.add_argument("--json", action="store_true", help="print one JSON line (internal)")
    args = parser.parse_args()
    if args.json:
        print(json.dumps(run(args.seed)))
        return
    rows = {"this checkout": run(args.seed)}
    if args.against:
        root = Path(args.against).resolve()
        env = {**os.environ, "PYTHONPATH": f"{root}{os.pathsep}{root / 'integrations'}"}
        out = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--json", "--seed", str(args.seed)],
            env=env, cwd=root, capture_output=True, text=True, check=True,
        )  # fmt: skip
        rows[str(root)] = json.loads(out.stdout.strip().splitlines()[-1])
    for name, row in rows.items():
        per_1000 = 1000 * row["exposures"] / row["page_requests"]
        print(
            f"{name}: {row['exposures']} exposures for {row['page_requests']} page requests "
            f"= {per_1000:.0f} per 1,000 (people who saw the page: {row['people_who_saw_it']})"
        )


if __name__ == "__main__":
    main()
