"""Worker CPU time per request, baseline vs candidate: a figure that other load cannot skew.

``python -m bench.cpu <scenario> [<scenario>...] [--rounds 3 --duration 4]`` serves both sides
of a scenario with gunicorn as :func:`bench.harness.compare` does, loads them with wrk in turn,
and reads the CPU seconds the gunicorn workers used (``/proc/<pid>/stat``, Linux) per request
served. On a shared machine req/s swing with everyone else's load (ratios between rounds have
been seen from 0.45 to 0.97 here); the CPU a worker spends per request does not, so its ratio
(baseline / candidate, best round of each) shows what the endpoint costs. It excludes wrk's
own CPU, which the req/s ratio includes: that ratio sits a little closer to 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench import harness


def _children(master_pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master_pid:  # field 4 (ppid), after the ")" of the command name
            found.append(int(entry))
    return found


def _cpu_seconds(pids: Sequence[int]) -> float:
    ticks = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime + stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def measure(scenario: harness.Scenario, *, rounds: int, duration: int) -> dict[str, float]:
    """Best (lowest) worker CPU microseconds per request of each side."""
    sides = {"baseline": scenario.baseline, "candidate": scenario.candidate}
    best: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix=f"bench-cpu-{scenario.name}-") as tmp:
        servers = {}
        try:
            for side, target in sides.items():
                workdir = Path(tmp) / side
                workdir.mkdir()
                env = dict(target.env)
                if target.setup is not None:
                    env.update(target.setup(workdir) or {})
                servers[side] = target.server(env).start()
                target.check_once(servers[side])
            for number in range(1, rounds + 1):
                for side, target in sides.items():
                    server = servers[side]
                    assert server._proc is not None
                    workers = _children(server._proc.pid)
                    before = _cpu_seconds(workers)
                    result = target.load(server, duration=duration, connections=16, threads=1)
                    if result.non_2xx or result.socket_errors or not result.requests:
                        raise harness.BenchError(f"{side}: errors during the run: {result}")
                    per_request = (_cpu_seconds(workers) - before) / result.requests * 1e6
                    best[side] = min(best.get(side, float("inf")), per_request)
                    print(
                        f"[{scenario.name}] round {number} {side:<9} {result.rps:>8,.0f} req/s "
                        f"{per_request:>8.1f} us CPU/request",
                        flush=True,
                    )
        finally:
            for server in servers.values():
                server.stop()
    return best


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.cpu", description=__doc__)
    parser.add_argument("scenarios", nargs="+", metavar="scenario")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=4)
    args = parser.parse_args(argv)
    harness.install_signal_handlers()
    harness.load_scenarios()
    for name in args.scenarios:
        scenario = harness.get_scenario(name)
        best = measure(scenario, rounds=args.rounds, duration=args.duration)
        ratio = best["baseline"] / best["candidate"]
        print(
            f"{name}: worker CPU per request: baseline {best['baseline']:.0f} us, "
            f"candidate {best['candidate']:.0f} us, ratio {ratio:.2f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
