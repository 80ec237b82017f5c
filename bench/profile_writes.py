"""CPU per request of the write paths in process (Flask test client), with a profile on demand.

``python -m bench.profile_writes [record join register check-in] [--requests 500]
[--profile 30]`` prepares each path's data set (bench.scenarios.write_paths, a fresh SQLite
file unless ``BENCH_APP_DATABASE_URL`` is set), sends 50 warm-up requests, then measures the
process CPU time of ``--requests`` more; ``--profile N`` prints the N most expensive functions
(cumulative) of a cProfile run over the same requests. No server, no wrk: a quick figure to
compare two versions of the code on one machine (``bench.cpu`` is the HTTP figure).
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import tempfile
import time
from pathlib import Path

WARMUP = 50


def measure(path: str, requests: int, *, profile: int = 0) -> float:
    """Microseconds of process CPU per request of one path."""
    from bench.scenarios import write_paths

    workdir = Path(tempfile.mkdtemp(prefix=f"bench-profile-{path}-"))
    write_paths.REQUESTS = WARMUP + requests
    env = write_paths.prepare(workdir, path=path, side="candidate")
    os.environ.update(env)
    from backend import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"]})
    # The request log goes to stderr here: keep the line being made, not its printing.
    logging.getLogger("coproduction").handlers[:] = [logging.NullHandler()]
    logging.getLogger("coproduction").propagate = False
    lines = (workdir / f"write-{path}-candidate.txt").read_text().splitlines()
    client = app.test_client()

    def send(batch: list[str], offset: int) -> None:
        for n, line in enumerate(batch):
            url, token, body = line.split("\t")
            answer = client.post(
                url,
                data=body,
                content_type="application/json",
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"p{offset + n}"},
            )
            assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)

    send(lines[:WARMUP], 0)
    batch = lines[WARMUP : WARMUP + requests]
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
    start = time.process_time()
    send(batch, WARMUP)
    spent = (time.process_time() - start) / len(batch) * 1e6
    if profile:
        profiler.disable()
        order = os.environ.get("BENCH_PROFILE_SORT", "cumulative")  # or tottime
        pstats.Stats(profiler).sort_stats(order).print_stats(profile)
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_writes", description=__doc__)
    parser.add_argument("paths", nargs="*", default=["record", "join", "register", "check-in"])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    results = {p: measure(p, args.requests, profile=args.profile) for p in args.paths}
    load = Path("/proc/loadavg").read_text().split()[0]
    for path, spent in results.items():
        print(f"{path}: {spent:,.0f} us CPU per request in process (load average {load})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
