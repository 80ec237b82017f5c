"""Toy apps used only to check that the harness measures what it claims to.

``bench.toy_apps:slow_app`` -- the bare hello-world plus a fixed CPU cost per request
(``BENCH_SPIN_US`` microseconds of busy loop, default 300). With sync workers on a 2-core machine
its throughput is well below the bare app's, so ``python -m bench.run sanity-slow`` must report a
ratio clearly under 1 and a FAIL against its 0.9 target.
"""

from __future__ import annotations

import os
import time

from flask import Flask

SPIN_SECONDS = int(os.environ.get("BENCH_SPIN_US", "300")) / 1_000_000

slow_app = Flask(__name__)


@slow_app.get("/hello")
def slow_hello() -> dict[str, bool]:
    """Burn ``BENCH_SPIN_US`` of CPU, then answer like the bare app."""
    deadline = time.perf_counter() + SPIN_SECONDS
    while time.perf_counter() < deadline:
        pass
    return {"ok": True}
