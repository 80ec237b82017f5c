"""Rate limits, one interface: `limiter.retry_after(key)` takes one hit for `key` and answers 0
(go ahead) or the whole seconds to wait.

With `REDIS_URL` set, hits are counted in Redis (the `limits` library's moving window), so a
limit holds across every worker of every server; without it they are counted in this process's
memory, as in the embedded single-server mode. A Redis that cannot be reached lets requests
through (a limit is a brake, not a gate) and is counted in
`coproduction_rate_limit_backend_errors_total`; /readyz reports it.

Limits in use: certificate verification (per client address), check-in code guesses (per
citizen and activity). `limiter(app, name, amount=, seconds=)` gives any other place one (login
lock-out's fast path, issue-number lookups), sharing the same store.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Protocol

from flask import Flask
from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter

from backend.certification.ratelimit import TokenBucketLimiter

log = logging.getLogger(__name__)

RATE_LIMITED = Counter(
    "coproduction_rate_limited", "Requests refused by a rate limit, by limit.", ["limit"]
)
BACKEND_ERRORS = Counter(
    "coproduction_rate_limit_backend_errors",
    "Rate-limit checks whose store (Redis) failed; the request was let through.",
    ["limit"],
)

_EXTENSION = "rate_limiters"
_STORAGE = "rate_limit_storage"


class Limiter(Protocol):
    """What a view needs from a rate limit."""

    def retry_after(self, key: str) -> int:
        """Take one hit for `key`: 0 when allowed, else whole seconds until one is."""
        ...


class WindowLimiter:
    """At most `amount` hits per `seconds` per key (moving window) in a `limits` store."""

    def __init__(self, *, name: str, amount: int, seconds: int, storage: Storage, prefix: str):
        self.name = name
        self._item = RateLimitItemPerSecond(max(1, amount), max(1, seconds), namespace=prefix)
        self._strategy = MovingWindowRateLimiter(storage)

    def retry_after(self, key: str) -> int:
        """Take one hit for `key`: 0 when allowed, else whole seconds until one is."""
        try:
            if self._strategy.hit(self._item, self.name, key):
                return 0
            reset_at = self._strategy.get_window_stats(self._item, self.name, key).reset_time
        except Exception as error:  # any store failure fails open, see above
            BACKEND_ERRORS.labels(self.name).inc()
            log.warning("rate limit %s: store failed (%s), request let through", self.name, error)
            return 0
        RATE_LIMITED.labels(self.name).inc()
        return max(1, math.ceil(reset_at - time.time()))


class CountedTokenBucket(TokenBucketLimiter):
    """The in-memory token bucket, counting its refusals like the shared limiters."""

    def __init__(self, *, name: str, rate: float, burst: int) -> None:
        super().__init__(rate=rate, burst=burst)
        self.name = name

    def retry_after(self, key: str) -> int:
        """Take one token for `key`: 0 when allowed, else whole seconds until one is."""
        wait = super().retry_after(key)
        if wait:
            RATE_LIMITED.labels(self.name).inc()
        return wait


class _Unlimited:
    name = "off"

    def retry_after(self, key: str) -> int:
        return 0


def storage(app: Flask) -> Storage:
    """This app's store of hits: Redis when `REDIS_URL` is set, else this process's memory."""
    found = app.extensions.get(_STORAGE)
    if found is None:
        url = app.config.get("REDIS_URL")
        if url:
            found = storage_from_string(
                url, socket_timeout=0.5, socket_connect_timeout=0.5, health_check_interval=30
            )
        else:
            found = MemoryStorage()
        app.extensions[_STORAGE] = found
    return found


def limiter(app: Flask, name: str, *, amount: int, seconds: int) -> Limiter:
    """The app's limiter called `name` (made once): `amount` hits per `seconds` per key."""
    limiters = app.extensions.setdefault(_EXTENSION, {})
    found = limiters.get(name)
    if found is None:
        if amount <= 0:
            found = _Unlimited()
        else:
            found = WindowLimiter(
                name=name,
                amount=amount,
                seconds=seconds,
                storage=storage(app),
                prefix=app.config.get("RATE_LIMIT_PREFIX", "coproduction"),
            )
        limiters[name] = found
    return found


def token_bucket(app: Flask, name: str, *, rate: float, burst: int) -> Limiter:
    """`rate` hits per second with bursts of `burst`: a token bucket in memory, or with Redis
    a moving window of `burst` hits per `burst / rate` seconds shared by every server."""
    # The in-memory bucket is made anew on each call: the caller keeps it (and may drop it).
    if app.config.get("REDIS_URL") and rate > 0:
        return limiter(app, name, amount=burst, seconds=max(1, math.ceil(burst / rate)))
    return CountedTokenBucket(name=name, rate=rate, burst=burst)


def check_in_guesses(app: Flask) -> Limiter:
    """Check-in code attempts per citizen and activity (`CHECK_IN_GUESS_LIMIT` per
    `CHECK_IN_GUESS_WINDOW_SECONDS`): a 6-digit code must not be found by trying them all."""
    return limiter(
        app,
        "check_in_guess",
        amount=int(app.config.get("CHECK_IN_GUESS_LIMIT", 10)),
        seconds=int(app.config.get("CHECK_IN_GUESS_WINDOW_SECONDS", 600)),
    )


def reset(app: Flask) -> None:
    """Forget every limiter and every counted hit of this app (tests, configuration changes)."""
    app.extensions.pop(_EXTENSION, None)
    found = app.extensions.pop(_STORAGE, None)
    # Only memory is wiped: Redis is shared with other servers (and other apps), whose hits
    # must stay; tests there use a RATE_LIMIT_PREFIX of their own instead.
    if isinstance(found, MemoryStorage):
        found.reset()


def redis_ready(app: Flask) -> bool | None:
    """None without Redis; else whether the limits' Redis answers."""
    if not app.config.get("REDIS_URL"):
        return None
    try:
        return bool(storage(app).check())
    except Exception:  # unreachable is the answer
        return False
