"""Printed issue numbers: random, 16 digits, a Damm check digit that catches typing mistakes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.certification.issue_number import (
    InvalidIssueNumber,
    damm_digit,
    format_issue_number,
    new_issue_number,
    normalize_issue_number,
)


def test_known_damm_value() -> None:
    # Damm's own worked example: the check digit of 572 is 4.
    assert damm_digit("572") == 4
    assert damm_digit("5724") == 0


def test_new_numbers_are_sixteen_checked_random_digits() -> None:
    numbers = {new_issue_number() for _ in range(200)}
    assert len(numbers) == 200
    for number in numbers:
        assert len(number) == 16 and number.isdigit()
        assert normalize_issue_number(format_issue_number(number)) == number


@given(st.integers(0, 15), st.integers(1, 9))
def test_every_single_wrong_digit_is_caught(position: int, shift: int) -> None:
    number = new_issue_number()
    wrong = number[:position] + str((int(number[position]) + shift) % 10) + number[position + 1 :]
    with pytest.raises(InvalidIssueNumber):
        normalize_issue_number(wrong)


@given(st.integers(0, 14))
def test_every_swap_of_neighbours_is_caught(position: int) -> None:
    number = new_issue_number()
    a, b = number[position], number[position + 1]
    if a == b:
        return
    swapped = number[:position] + b + a + number[position + 2 :]
    with pytest.raises(InvalidIssueNumber):
        normalize_issue_number(swapped)


def test_what_people_type_is_read() -> None:
    number = new_issue_number()
    printed = format_issue_number(number)
    assert printed.count("-") == 3
    assert normalize_issue_number(f"  {printed.replace('-', ' ')} ") == number
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in printed)
    assert normalize_issue_number(full_width) == number
    for bad in ("", "1234", number + "0", "١٢٣٤" * 4, "abcd-efgh-ijkl-mnop", 5, "1" * 100):
        with pytest.raises(InvalidIssueNumber):
            normalize_issue_number(bad)  # type: ignore[arg-type]
