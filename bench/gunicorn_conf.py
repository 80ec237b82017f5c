"""Gunicorn configuration used by every benchmark server unless a target names its own.

It is passed explicitly (``-c``) so that a ``gunicorn.conf.py`` at the repository root, meant
for deployment, never changes a benchmark behind its back. Everything the harness varies
(bind, workers, worker class, threads) is given on the command line, which overrides this file.
Keep it identical for baseline and candidate: both sides of a comparison must run the same way.
"""

accesslog = None  # an access log costs throughput on both sides; keep it off
loglevel = "warning"
errorlog = "-"  # stderr, which the harness writes to bench/results/logs/
timeout = 30
graceful_timeout = 3
keepalive = 2
