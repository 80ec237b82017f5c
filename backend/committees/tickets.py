"""Meeting tickets: a signed code per registration, shown as a QR code at the door.

A ticket is ``MT2:<compact JWS>``, signed with ES256 by the deployment's certificate signing
key (the same key registry, the same ``/.well-known/jwks.json``, the same signing and
verification code as certificates), so a door device that has the JWKS checks a ticket with
no network. The JWS header is ``{"alg": "ES256", "kid": …, "typ": "mt"}`` (the ``typ`` keeps a
ticket from ever passing for a certificate or a status list, and the other way round); the
payload is exactly::

    {"m": meeting id, "r": registration id, "s": "c" (confirmed) | "w" (waitlisted),
     "nb": not before, "e": expires}      # epoch seconds: the meeting's check-in window

The ticket says nothing about the person. The server still looks the registration up at every
scan, so a cancelled registration's ticket stops working at once online; a device that admitted
it offline learns it as a `conflict_cancelled` when its queue is sent. The server judges the
check-in window from the meeting as it is now (a moved meeting's cached tickets still work);
``nb``/``e`` are for devices with no network. Signatures are deterministic (RFC 6979), so a
registration's ticket stays the same text until its meeting's times, its status or the active
key change.

Transition: ``MT1:<registration id>:<MAC>`` tickets (HMAC-SHA256 keyed from SECRET_KEY, the
format before) are still accepted by the server while `TICKETS_ACCEPT_MT1` is on (default),
because phones cache tickets; they are never issued any more, and door devices can check them
offline only against their saved confirmed list. See mobile_contract/CHANGES.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
from dataclasses import dataclass

import qrcode
from flask import current_app

from backend.certification import signing
from backend.certification.keys import ALG, SigningKey
from backend.certification.token import (
    MalformedToken,
    epoch_seconds,
    sign_compact_jws,
    split_compact_jws,
    verify_es256,
)
from backend.clock import utcnow
from backend.committees.models import CHECK_IN_MARGIN, Registration, RegistrationStatus
from backend.extensions import db
from backend.ids import is_valid_id

TICKET_PREFIX = "MT2:"
TICKET_TYP = "mt"
#: A ticket's text is at most this long (the API's limit on scanned ticket text too).
MAX_TICKET_LENGTH = 512
_CLAIMS = frozenset({"m", "r", "s", "nb", "e"})
_STATES = {"c": True, "w": False}

LEGACY_PREFIX = "MT1"
_KEY_LABEL = b"backend.committees.ticket.v1"
_MAC_BYTES = 16
_MAC_CHARS = 26  # base32 of 16 bytes, without padding


@dataclass(frozen=True)
class TicketCode:
    """The parts of a scanned ticket (its signature not yet checked)."""

    registration_id: str
    #: The meeting the ticket was signed for (None for an MT1 ticket, which binds it by MAC).
    meeting_id: str | None = None
    kid: str | None = None
    signing_input: bytes = b""
    signature: bytes = b""
    legacy_mac: str | None = None


def make_ticket(registration: Registration) -> str:
    """The signed ticket text of a registration (its meeting's check-in window as validity)."""
    meeting = registration.meeting
    claims = {
        "m": registration.meeting_id,
        "r": registration.id,
        "s": "c" if registration.status == RegistrationStatus.CONFIRMED else "w",
        "nb": epoch_seconds(meeting.starts_at - CHECK_IN_MARGIN),
        "e": epoch_seconds(meeting.ends_at + CHECK_IN_MARGIN),
    }
    key = _active_key()
    return TICKET_PREFIX + sign_compact_jws(
        {"alg": ALG, "kid": key.kid, "typ": TICKET_TYP}, claims, key, deterministic=True
    )


def _active_key() -> SigningKey:
    found = signing.registry()
    snapshot = found.ensure_fresh(utcnow())
    if snapshot.active_kid is None and signing.ensure_published_key():
        # The deployment's first key: committed at once, as the JWKS endpoint does, so no
        # ticket is ever signed with a key that a rollback could take away again.
        db.session.commit()
        snapshot = found.ensure_fresh(utcnow())
    return found.signing_key(snapshot.active_kid, snapshot.active_blob)


def parse_ticket(text: str) -> TicketCode | None:
    """Split a scanned ticket into its parts; None when it does not have a ticket's shape."""
    text = text.strip()
    if text.startswith(TICKET_PREFIX):
        return _parse_signed(text[len(TICKET_PREFIX) :])
    return _parse_legacy(text)


def _parse_signed(token: str) -> TicketCode | None:
    try:
        header, payload, signing_input, signature = split_compact_jws(token, MAX_TICKET_LENGTH)
    except MalformedToken:
        return None
    if set(header) != {"alg", "kid", "typ"} or header["typ"] != TICKET_TYP:
        return None
    if not isinstance(payload, dict) or payload.keys() != _CLAIMS:
        return None
    ids_ok = all(isinstance(payload[n], str) and is_valid_id(payload[n]) for n in ("m", "r"))
    times_ok = all(
        isinstance(payload[n], int) and not isinstance(payload[n], bool) for n in ("nb", "e")
    )
    if not ids_ok or not times_ok or payload["s"] not in _STATES:
        return None
    return TicketCode(
        registration_id=payload["r"],
        meeting_id=payload["m"],
        kid=header["kid"],
        signing_input=signing_input,
        signature=signature,
    )


def _parse_legacy(text: str) -> TicketCode | None:
    parts = text.upper().split(":")
    if len(parts) != 3 or parts[0] != LEGACY_PREFIX:
        return None
    if not current_app.config.get("TICKETS_ACCEPT_MT1", True):
        return None
    registration_id, mac = parts[1], parts[2]
    if not is_valid_id(registration_id) or len(mac) != _MAC_CHARS:
        return None
    return TicketCode(registration_id=registration_id, legacy_mac=mac)


def ticket_matches(code: TicketCode, meeting_id: str) -> bool:
    """Whether the ticket is genuine and was made for this registration's meeting.

    A signed ticket is checked against every key the deployment ever had (a retired key's
    tickets stay good until their meeting), an MT1 ticket against the server's MAC.
    """
    if code.legacy_mac is not None:
        return hmac.compare_digest(code.legacy_mac, _legacy_mac(code.registration_id, meeting_id))
    if code.meeting_id != meeting_id:
        return False
    public_key = signing.registry().ensure_fresh(utcnow()).public_keys.get(code.kid or "")
    return public_key is not None and verify_es256(code.signing_input, code.signature, public_key)


def _legacy_key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode()
    return hmac.new(secret, _KEY_LABEL, hashlib.sha256).digest()


def _legacy_mac(registration_id: str, meeting_id: str) -> str:
    message = f"{registration_id}:{meeting_id}".encode("ascii")
    digest = hmac.new(_legacy_key(), message, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.b32encode(digest).decode("ascii").rstrip("=")


def make_legacy_ticket(registration_id: str, meeting_id: str) -> str:
    """An MT1 ticket as the platform issued them before MT2 (tests of the transition use it)."""
    return f"{LEGACY_PREFIX}:{registration_id}:{_legacy_mac(registration_id, meeting_id)}"


def render_ticket_png(text: str, *, box_size: int = 6, border: int = 4) -> bytes:
    """A PNG of the ticket's QR code (error correction M)."""
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box_size, border=border
    )
    code.add_data(text.encode("ascii"))
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
