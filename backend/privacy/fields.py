"""Marshmallow fields that show a person's data masked (the one rule of `masking`).

Output schemas for audiences other than the person themselves use these, so the contract says
which fields are masked: each field's description starts with "Masked".
"""

from __future__ import annotations

from typing import Any

from marshmallow import fields

from backend.privacy.masking import mask_email, mask_name_or_blank, mask_phone


class MaskedName(fields.String):
    """A person's name masked for others: 홍*동, 남궁*수."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("description", "Masked name (홍*동, 남궁*수): not the viewer's own.")
        metadata.setdefault("example", "홍*동")
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else mask_name_or_blank(value)


class MaskedPhone(fields.String):
    """A phone number masked for others: 010-1234-****."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("description", "Masked phone (010-1234-****): not the viewer's own.")
        metadata.setdefault("example", "010-1234-****")
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return mask_phone(value)


class MaskedEmail(fields.String):
    """An e-mail address masked for others: ho***@example.com."""

    def __init__(self, **kwargs: Any) -> None:
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault(
            "description", "Masked e-mail (ho***@example.com): not the viewer's own."
        )
        metadata.setdefault("example", "ho***@example.com")
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return mask_email(value)
