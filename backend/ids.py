"""Opaque, time-ordered identifiers (ULIDs) for every row shown to clients."""

from __future__ import annotations

import base64
import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#: base64's base-32 digits (RFC 4648) rewritten as Crockford's, the alphabet of ULIDs.
_TO_CROCKFORD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _CROCKFORD.encode())
_lock = threading.Lock()
_last_ms = 0
_last_random = 0
ID_LENGTH = 26
ID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"


def _encode(value: int) -> str:
    # 20 bytes are 32 base-32 digits; a ULID is the last 26 (130 bits, the top two zero).
    # base64's C encoder: every insert makes ids, and a digit-by-digit loop cost ~25 us each.
    return base64.b32encode(value.to_bytes(20, "big")).translate(_TO_CROCKFORD)[6:].decode()


def new_id() -> str:
    """Return a new ULID: 48 bits of milliseconds, then 80 random bits.

    Within one millisecond the random part is incremented, so ids made by one process sort in
    creation order; that lets lists page by id alone ("newest first").
    """
    global _last_ms, _last_random
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms <= _last_ms:
            now_ms = _last_ms
            _last_random = (_last_random + 1) & ((1 << 80) - 1)
        else:
            _last_ms = now_ms
            _last_random = int.from_bytes(os.urandom(10), "big") >> 1
        return _encode(now_ms << 80 | _last_random)


def is_valid_id(value: str) -> bool:
    """Tell whether a string has the shape of an id (for cursors and path parameters)."""
    return len(value) == ID_LENGTH and all(c in _CROCKFORD for c in value)
