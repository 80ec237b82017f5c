"""Benchmark harness: serve apps under gunicorn, load them with wrk, compare against a bare app.

See ``bench/README.md``. Run ``bash bench/setup.sh && .venv/bin/python -m bench.run healthz``.
"""
