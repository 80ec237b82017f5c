"""Printed issue numbers (발급번호): what a person types when a paper copy is all there is.

Sixteen digits printed as 1234-5678-9012-3456: fifteen random digits and a Damm check digit.
The check digit catches every single mistyped digit and every swap of two neighbours before the
server is asked. Numbers are random (10^15 of them), so a lookup that is rate-limited like the
QR verification cannot walk through certificates: at a million certificates a guess hits one in
a billion times. The sequential `serial_number` is never accepted for a public lookup.
"""

from __future__ import annotations

import re
import secrets
import unicodedata

ISSUE_NUMBER_LENGTH = 16
_RANDOM_DIGITS = ISSUE_NUMBER_LENGTH - 1
_SEPARATORS = re.compile(r"[\s\-‐-―−.]")  # spaces, hyphens and dashes people type

# Damm's totally anti-symmetric quasigroup of order 10 (H. M. Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


class InvalidIssueNumber(ValueError):
    """The text is not sixteen digits with a correct check digit."""


def damm_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits (0 when appended digits are right)."""
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][ord(digit) - 48]
    return interim


def new_issue_number() -> str:
    """A fresh random issue number: 15 random digits and their check digit (16 digits)."""
    body = "".join(str(secrets.randbelow(10)) for _ in range(_RANDOM_DIGITS))
    return body + str(damm_digit(body))


def normalize_issue_number(text: str) -> str:
    """The sixteen digits of a typed issue number; raises InvalidIssueNumber."""
    if not isinstance(text, str) or len(text) > 64:
        raise InvalidIssueNumber("issue number must be a short string")
    # NFKC turns full-width digits (typed on some Korean keyboards) into ASCII ones.
    digits = _SEPARATORS.sub("", unicodedata.normalize("NFKC", text))
    # isascii too: other scripts' digits (e.g. Arabic-Indic) are digits to str.isdigit().
    if len(digits) != ISSUE_NUMBER_LENGTH or not (digits.isascii() and digits.isdigit()):
        raise InvalidIssueNumber("issue number must be 16 digits")
    if damm_digit(digits) != 0:
        raise InvalidIssueNumber("issue number check digit does not match")
    return digits


def format_issue_number(digits: str) -> str:
    """Print form: four groups of four digits (1234-5678-9012-3456)."""
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))
