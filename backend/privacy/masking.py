"""The one masking rule for personal data shown to someone other than its owner.

Names keep their first and last syllable (홍길동 → 홍*동; a two-syllable name keeps its first:
홍길 → 홍*), a compound surname (복성) keeps both of its syllables (남궁민수 → 남궁*수), and runs of
masked characters are capped at three so a long name's length is not revealed either. Phones keep
the area or carrier prefix and the middle block (010-1234-****); e-mails keep two characters of
the mailbox and the domain (ho***@example.com).

Every answer, CSV and page that shows a person to someone else calls these functions (through
`backend.privacy.fields`); certificate tokens sign the same masked name.
"""

from __future__ import annotations

import re
import unicodedata

MASK_CHAR = "*"
MAX_MASKED_RUN = 3
MAX_NAME_WORDS = 3

#: Korean two-syllable surnames (복성): they identify a family, not a person, so both are kept.
COMPOUND_SURNAMES = frozenset(
    {
        "남궁", "황보", "제갈", "사공", "선우", "서문", "독고", "동방", "어금", "망절",
        "을지", "공손", "강전", "소봉", "장곡", "황목", "등정", "영호",
    }
)  # fmt: skip

_HANGUL = re.compile(r"[\uac00-\ud7a3]+")
_NON_DIGIT = re.compile(r"\D")


def mask_name(name: str) -> str:
    """Mask a name: 홍길동 → 홍*동, 홍길 → 홍*, 남궁민수 → 남궁*수, John Smith → J**n S***h."""
    # NFC first: a decomposed (NFD) Hangul name would otherwise leak jamo of the masked syllables.
    words = unicodedata.normalize("NFC", name).split() if isinstance(name, str) else []
    if not words:
        raise ValueError("name is empty")
    if len(words) > MAX_NAME_WORDS:
        # Middle names add length, not recognisability; keep the result small.
        words = words[: MAX_NAME_WORDS - 1] + words[-1:]
    return " ".join(_mask_word(word) for word in words)


def mask_name_or_blank(name: str | None) -> str:
    """`mask_name`, but a missing or unmaskable name shows as the mask character alone."""
    try:
        return mask_name(name or "")
    except ValueError:
        return MASK_CHAR


def mask_phone(phone: str | None) -> str | None:
    """Mask a phone number: 01012345678 → 010-1234-****, 0212345678 → 02-1234-****."""
    if not phone:
        return None
    digits = _NON_DIGIT.sub("", phone)
    if len(digits) < 7:
        return MASK_CHAR * 4
    # Seoul's area code is two digits; every other prefix (010, 031, 070 ...) is three.
    head = 2 if digits.startswith("02") else 3
    middle = digits[head:-4]
    return f"{digits[:head]}-{middle}-{MASK_CHAR * 4}"


def mask_email(email: str | None) -> str | None:
    """Mask an e-mail address: hong.gildong@example.com → ho***@example.com."""
    if not email:
        return None
    mailbox, at, domain = email.rpartition("@")
    if not at or not mailbox:
        return MASK_CHAR * 3
    # A fixed run hides the mailbox's length; two characters let the owner's staff recognise it.
    return f"{mailbox[:2] if len(mailbox) > 2 else mailbox[:1]}{MASK_CHAR * 3}@{domain}"


def _mask_word(word: str) -> str:
    if len(word) == 1:
        return MASK_CHAR
    if len(word) == 2:
        return word[0] + MASK_CHAR
    keep = 2 if len(word) >= 4 and _HANGUL.fullmatch(word) and word[:2] in COMPOUND_SURNAMES else 1
    # Capping the run hides the exact length of long names and keeps tokens bounded.
    return word[:keep] + MASK_CHAR * min(len(word) - keep - 1, MAX_MASKED_RUN) + word[-1]
