"""An in-memory token bucket per client address: rate limiting without a database write.

Each worker process keeps its own buckets, so a client gets at most `workers x rate` across a
server; that is the price of never writing to the database on the verification hot path.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class TokenBucketLimiter:
    """`rate` requests per second per key on average, bursts of up to `burst`."""

    def __init__(
        self,
        *,
        rate: float,
        burst: int,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = float(rate)
        self.burst = max(1, int(burst))
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """A rate of zero or less turns limiting off."""
        return self.rate > 0

    def retry_after(self, key: str) -> int:
        """Take one token for `key`: 0 when allowed, else whole seconds until one is available."""
        if not self.enabled:
            return 0
        now = self._clock()
        with self._lock:
            tokens, last = self._buckets.pop(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[key] = (tokens, now)  # re-inserted last: the dict is in LRU order
            if len(self._buckets) > self.max_keys:
                # Bounded memory: forget the least recently seen client (it gets a full bucket).
                self._buckets.popitem(last=False)
        return 0 if allowed else max(1, math.ceil((1.0 - tokens) / self.rate))

    def reset(self) -> None:
        """Forget every bucket."""
        with self._lock:
            self._buckets.clear()
