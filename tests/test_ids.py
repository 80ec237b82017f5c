"""ULIDs: 26 Crockford base-32 digits of 48 bits of milliseconds and 80 random bits."""

from __future__ import annotations

import re
import time

from backend.ids import ID_PATTERN, is_valid_id, new_id

_DIGITS = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _decode(text: str) -> int:
    value = 0
    for char in text:
        value = value * 32 + _DIGITS.index(char)
    return value


def test_an_id_carries_the_current_millisecond_and_matches_the_published_pattern():
    before = time.time_ns() // 1_000_000
    made = new_id()
    after = time.time_ns() // 1_000_000
    assert re.fullmatch(ID_PATTERN, made) and is_valid_id(made)
    assert before <= _decode(made) >> 80 <= after


def test_ids_made_in_a_row_are_distinct_and_sort_in_creation_order():
    made = [new_id() for _ in range(5_000)]
    assert len(set(made)) == len(made)
    assert made == sorted(made)
    # Within a millisecond the random part counts up by one.
    same_ms = [(a, b) for a, b in zip(made, made[1:], strict=False) if a[:10] == b[:10]]
    assert same_ms
    assert all(_decode(b) - _decode(a) == 1 for a, b in same_ms)
