"""Command line: ``python -m bench.run <scenario> [<scenario>...] [--rounds 3 --duration 5]``.

``python -m bench.run --list`` shows the registered scenarios. Exit status: 0 when every
scenario passes, is within noise of its target or has no target; 1 when one FAILs its target;
2 when a run is INVALID (error responses, socket errors) or could not be run at all.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench import harness


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Compare an endpoint served by gunicorn against a bare Flask baseline "
        "(wrk on 127.0.0.1, interleaved rounds, medians).",
    )
    parser.add_argument("scenarios", nargs="*", metavar="scenario", help="scenario name(s)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run (default 5)")
    parser.add_argument(
        "--warmup", type=int, default=2, help="warm-up seconds per side, discarded (default 2)"
    )
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECS",
        help="before each round, wait up to SECS for other processes to leave the CPUs idle "
        "(default 0: do not wait)",
    )
    parser.add_argument(
        "--retry-busy",
        type=int,
        default=0,
        metavar="N",
        help="discard and re-run a round during which other processes took more than 10%% "
        "of the CPUs, at most N times in all (default 0)",
    )
    parser.add_argument(
        "--no-json", action="store_true", help="do not write bench/results/<scenario>.json"
    )
    return parser


def _list(out: harness.TextIO) -> None:
    registered = harness.scenarios()
    width = max((len(name) for name in registered), default=10)
    for name, scenario in registered.items():
        goal = f"ratio >= {scenario.target_ratio:g}" if scenario.target_ratio else "report only"
        print(f"{name:<{width}}  {scenario.description}  [{goal}]", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return the exit status."""
    args = _parser().parse_args(argv)
    harness.install_signal_handlers()
    errors = harness.load_scenarios()
    for module, error in errors.items():
        print(f"warning: scenario module {module} failed to load: {error}", file=sys.stderr)
    if args.list:
        _list(sys.stdout)
        return 0
    if not args.scenarios:
        _parser().error("name a scenario (see --list)")

    status = 0
    for name in args.scenarios:
        try:
            scenario = harness.get_scenario(name)
            comparison = harness.compare(
                scenario,
                rounds=args.rounds,
                duration=args.duration,
                warmup=args.warmup,
                connections=args.connections,
                threads=args.threads,
                wait_quiet=args.wait_quiet,
                retry_busy=args.retry_busy,
                results_dir=None if args.no_json else harness.RESULTS_DIR,
            )
        except (harness.BenchError, KeyError, ValueError) as exc:
            message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
            print(f"error: {name}: {message}", file=sys.stderr)
            status = 2
            continue
        if comparison.verdict == "INVALID":
            status = 2
        elif comparison.verdict == "FAIL" and status == 0:
            status = 1
        print(flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
