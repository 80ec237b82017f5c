"""Meeting tickets: an opaque signed code per registration, shown as a QR code at the door.

A ticket is ``MT1:<registration id>:<MAC>``, where the MAC is the first 128 bits of
HMAC-SHA256 over the registration and meeting ids, keyed by a key derived from the app's
SECRET_KEY, in base32. Every character is in the QR alphanumeric set, so the code stays small
(version 4 at level M). The ticket says nothing about the person; the server looks the
registration up when it is scanned, so a cancelled registration's ticket stops working at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass

import qrcode
from flask import current_app
from qrcode.util import MODE_ALPHA_NUM, QRData

from backend.ids import is_valid_id

TICKET_PREFIX = "MT1"
_KEY_LABEL = b"backend.committees.ticket.v1"
_MAC_BYTES = 16
_MAC_CHARS = 26  # base32 of 16 bytes, without padding


@dataclass(frozen=True)
class TicketCode:
    """The parts of a scanned ticket (not yet verified)."""

    registration_id: str
    mac: str


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def _mac(registration_id: str, meeting_id: str) -> str:
    message = f"{registration_id}:{meeting_id}".encode("ascii")
    digest = hmac.new(_key(), message, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def make_ticket(registration_id: str, meeting_id: str) -> str:
    """The ticket text of a registration."""
    return f"{TICKET_PREFIX}:{registration_id}:{_mac(registration_id, meeting_id)}"


def parse_ticket(text: str) -> TicketCode | None:
    """Split a scanned ticket into its parts; None when it does not have a ticket's shape."""
    parts = text.strip().upper().split(":")
    if len(parts) != 3 or parts[0] != TICKET_PREFIX:
        return None
    registration_id, mac = parts[1], parts[2]
    if not is_valid_id(registration_id) or len(mac) != _MAC_CHARS:
        return None
    return TicketCode(registration_id=registration_id, mac=mac)


def ticket_matches(code: TicketCode, meeting_id: str) -> bool:
    """Whether the ticket's MAC is the one this server made for the registration's meeting."""
    return hmac.compare_digest(code.mac, _mac(code.registration_id, meeting_id))


def render_ticket_png(text: str, *, box_size: int = 8, border: int = 4) -> bytes:
    """A PNG of the ticket's QR code (alphanumeric mode, error correction M)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM))
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
