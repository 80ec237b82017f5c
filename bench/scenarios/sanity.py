"""Self-checks of the harness itself (no platform code involved).

* ``sanity-bare``: bare hello-world against itself. The ratio must come out ~1.00; its per-round
  spread is the noise floor of the machine at that moment.
* ``sanity-slow``: a toy app burning ``BENCH_SPIN_US`` (300) µs of CPU per request against the
  bare app. The harness must see it clearly slower and report FAIL against a 0.9 target.
* ``sanity-insert``: the bare "insert one row" endpoint against itself, through POST + JSON body,
  target setup (fresh SQLite file per side) and the generated Lua. Ratio ~1.00.
"""

from __future__ import annotations

from bench.harness import BARE_HELLO, Scenario, Target, bare_insert_target, register

register(
    Scenario(
        name="sanity-bare",
        description="bare hello-world vs itself (ratio should be ~1.00)",
        candidate=BARE_HELLO,
        baseline=BARE_HELLO,
        target_ratio=0.9,
    )
)

register(
    Scenario(
        name="sanity-slow",
        description="toy app with 300 us CPU per request vs bare hello-world (must FAIL)",
        candidate=Target(app="bench.toy_apps:slow_app", path="/hello", label="slow toy app"),
        baseline=BARE_HELLO,
        target_ratio=0.9,
    )
)

register(
    Scenario(
        name="sanity-insert",
        description="bare insert-one-row vs itself, SQLite (ratio should be ~1.00)",
        candidate=bare_insert_target(),
        baseline=bare_insert_target(),
        target_ratio=0.9,
    )
)
