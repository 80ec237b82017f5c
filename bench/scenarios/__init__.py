"""Benchmark scenarios, one small module each.

Every module here is imported by ``python -m bench.run`` and calls
:func:`bench.harness.register` with a :class:`bench.harness.Scenario`. See ``bench/README.md``
("Adding a scenario") and ``healthz.py`` for the shortest example.
"""
