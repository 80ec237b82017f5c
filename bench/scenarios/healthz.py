"""``healthz``: the real app's ``GET /healthz`` against the bare Flask hello-world.

The floor of the whole app: app factory, blueprints, middleware and error handlers on the
cheapest endpoint. The app gets a fresh SQLite database and instance folder in a temporary
directory; set ``BENCH_APP_DATABASE_URL`` to point it at another database instead (e.g. a local
PostgreSQL). Other settings the app reads (``SECRET_KEY``...) are passed through from the
environment of ``python -m bench.run``.
"""

from __future__ import annotations

import os
from pathlib import Path

from bench.harness import BARE_HELLO, Scenario, Target, register


def app_env(workdir: Path) -> dict[str, str]:
    """Environment for ``backend:create_app()`` kept inside the run's private directory."""
    instance = workdir / "instance"
    instance.mkdir(exist_ok=True)
    url = os.environ.get("BENCH_APP_DATABASE_URL") or f"sqlite:///{workdir / 'app.db'}"
    return {"DATABASE_URL": url, "INSTANCE_DIR": str(instance)}


register(
    Scenario(
        name="healthz",
        description="real app GET /healthz vs bare Flask hello-world",
        candidate=Target(
            app="backend:create_app()",
            path="/healthz",
            setup=app_env,
            label="real app",
        ),
        baseline=BARE_HELLO,
        target_ratio=None,  # report only until the issue that owns /healthz sets a goal
    )
)
