"""Parallel requests against the real test database (SQLite file or PostgreSQL): each thread
has its own app context, session and test client, and all start at one barrier."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from backend.extensions import db


def in_parallel(app: Any, count: int, work: Callable[[Any, int], Any]) -> list[Any]:
    """Run `work(client, slot)` in `count` threads at once; its results (or exceptions)."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(slot: int) -> None:
        with app.app_context():
            client = app.test_client()
            try:
                start.wait()
                results[slot] = work(client, slot)
            except Exception as error:  # the outcome is what the test asserts on
                results[slot] = error
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
