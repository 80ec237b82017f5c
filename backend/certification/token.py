"""Compact signed certificate tokens (JWS, ES256) and their numeric QR text form.

A token is a compact JWS ``header.payload.signature``: the header is ``{"alg":"ES256","kid":…}``
and the payload holds exactly seven short claims (see ``CLAIM_*`` and
mobile_contract/OFFLINE_VERIFICATION.md). Nothing that identifies a person beyond a masked name is
in it. In a QR code the token is written as ``QR_PREFIX`` followed by two digits per character
(``ord(c) - 45``), the SMART Health Cards trick that lets the QR use its dense numeric mode.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import string
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from backend.certification.keys import ALG, KID_PATTERN, SigningKey, public_key_from_jwk

# The one masking rule lives with the other personal-data rules; re-exported for the callers here.
from backend.privacy.masking import MASK_CHAR, mask_name

QR_PREFIX = "CPC1:/"
MAX_TOKEN_LENGTH = 2048
DEFAULT_LEEWAY_SECONDS = 300

# One-letter claim names: each payload byte costs ~8.9 QR bits (4/3 base64url characters,
# two digits each, 10 bits per 3 digits), and the QR must stay at version 13.
CLAIM_ISSUER = "i"
CLAIM_CERTIFICATE_ID = "c"
CLAIM_KIND = "k"
CLAIM_HOLDER = "n"
CLAIM_ISSUED_AT = "t"
CLAIM_EXPIRES_AT = "e"
CLAIM_REVOCATION_INDEX = "r"
CLAIM_NAMES = frozenset(
    {
        CLAIM_ISSUER,
        CLAIM_CERTIFICATE_ID,
        CLAIM_KIND,
        CLAIM_HOLDER,
        CLAIM_ISSUED_AT,
        CLAIM_EXPIRES_AT,
        CLAIM_REVOCATION_INDEX,
    }
)

# Wire codes are permanent: printed certificates carry them for years. Add, never reuse.
KIND_CODES: Mapping[str, str] = {"model_citizen": "mc", "committee_member": "cm"}
KIND_NAMES: Mapping[str, str] = {code: name for name, code in KIND_CODES.items()}

# Field limits. They bound the worst-case token so that its QR stays at version <= 13 (level M).
ISSUER_PATTERN = re.compile(r"[A-Za-z0-9-]{1,10}")
CERTIFICATE_ID_PATTERN = re.compile(r"[A-Za-z0-9_-]{8,24}")
MAX_HOLDER_CHARS = 20
MAX_HOLDER_BYTES = 40
MAX_TIMESTAMP = 253402300799  # 9999-12-31T23:59:59Z, the last second datetime can represent
MAX_REVOCATION_INDEX = 2**32 - 1

_SIGNATURE_LENGTH = 64
_COORDINATE_LENGTH = 32
_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
# RFC 6979: the same payload and key always give the same signature (meeting tickets use it,
# so a registration's ticket text, and its QR, stay the same at every fetch).
_ECDSA_SHA256_DETERMINISTIC = ec.ECDSA(hashes.SHA256(), deterministic_signing=True)
_JSON_SEPARATORS = (",", ":")
_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")
_JWS_CHARS = re.compile(r"[A-Za-z0-9_.-]*")
_JWS_ALPHABET = string.ascii_letters + string.digits + "-_."
_CHAR_TO_DIGITS = {ord(c): f"{ord(c) - 45:02d}" for c in _JWS_ALPHABET}
_JWS_CHAR_DELETION = dict.fromkeys(map(ord, _JWS_ALPHABET))
_TENS_VALUE = bytes.maketrans(b"0123456789", bytes(range(0, 100, 10)))
_ONES_VALUE_PLUS_45 = bytes.maketrans(b"0123456789", bytes(range(45, 55)))


class MalformedToken(ValueError):
    """The text is not a well-formed certificate token (or QR text of one)."""


class VerificationStatus(StrEnum):
    """Outcome of check_token, in the order the checks run."""

    MALFORMED = "malformed"
    UNKNOWN_KEY = "unknown_key"
    INVALID_SIGNATURE = "invalid_signature"
    REVOKED = "revoked"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    VALID = "valid"


@dataclass(frozen=True, slots=True)
class CertificateClaims:
    """Everything a certificate token asserts; ``holder`` is already masked."""

    issuer: str
    certificate_id: str
    kind: str
    holder: str
    issued_at: int
    expires_at: int
    revocation_index: int

    def __post_init__(self) -> None:
        problem = _claims_problem(self)
        if problem:
            raise ValueError(problem)

    @property
    def issued_at_datetime(self) -> datetime:
        """Issue time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.issued_at, UTC)

    @property
    def expires_at_datetime(self) -> datetime:
        """Expiry time as an aware UTC datetime."""
        return datetime.fromtimestamp(self.expires_at, UTC)

    def to_payload(self) -> dict[str, str | int]:
        """The JWS payload object with short claim names, in a fixed order."""
        return {
            CLAIM_ISSUER: self.issuer,
            CLAIM_CERTIFICATE_ID: self.certificate_id,
            CLAIM_KIND: KIND_CODES[self.kind],
            CLAIM_HOLDER: self.holder,
            CLAIM_ISSUED_AT: self.issued_at,
            CLAIM_EXPIRES_AT: self.expires_at,
            CLAIM_REVOCATION_INDEX: self.revocation_index,
        }


@dataclass(frozen=True, slots=True)
class ParsedToken:
    """A syntactically valid token whose signature has not been checked yet."""

    header: dict[str, str]
    claims: CertificateClaims
    signing_input: bytes
    signature: bytes

    @property
    def kid(self) -> str:
        """The key id from the header."""
        return self.header["kid"]


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Status of a checked token, with its claims when the signature is good."""

    status: VerificationStatus
    kid: str | None = None
    claims: CertificateClaims | None = None

    @property
    def is_valid(self) -> bool:
        """True only for a genuine, unrevoked certificate within its validity period."""
        return self.status is VerificationStatus.VALID

    def display(self) -> dict[str, Any] | None:
        """What a verifier may show: masked holder, kind, issuer, issue and expiry times."""
        if self.claims is None:
            return None
        return {
            "holder": self.claims.holder,
            "kind": self.claims.kind,
            "issuer": self.claims.issuer,
            "issued_at": self.claims.issued_at_datetime,
            "expires_at": self.claims.expires_at_datetime,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: status plus displayable claims (ISO 8601 UTC times) when known."""
        shown = self.display()
        result: dict[str, Any] = {"status": self.status.value}
        if shown is not None:
            shown["issued_at"] = shown["issued_at"].isoformat().replace("+00:00", "Z")
            shown["expires_at"] = shown["expires_at"].isoformat().replace("+00:00", "Z")
            result.update(shown)
        return result


def new_certificate_id() -> str:
    """A random, unguessable certificate id (96 bits, 16 base64url characters)."""
    return secrets.token_urlsafe(12)


def build_certificate_claims(
    *,
    issuer: str,
    kind: str,
    holder_name: str,
    issued_at: datetime,
    expires_at: datetime,
    revocation_index: int,
    certificate_id: str | None = None,
) -> CertificateClaims:
    """Build claims from a full name (masked here) and aware datetimes."""
    return CertificateClaims(
        issuer=issuer,
        certificate_id=certificate_id or new_certificate_id(),
        kind=kind,
        holder=mask_name(holder_name),
        issued_at=epoch_seconds(issued_at),
        expires_at=epoch_seconds(expires_at),
        revocation_index=revocation_index,
    )


def sign_certificate_token(
    claims: CertificateClaims,
    *,
    private_key: ec.EllipticCurvePrivateKey | SigningKey,
    kid: str,
) -> str:
    """Sign claims into a compact ES256 JWS whose header holds only alg and kid."""
    if not isinstance(claims, CertificateClaims):
        raise TypeError("claims must be CertificateClaims")
    return sign_compact_jws({"alg": ALG, "kid": kid}, claims.to_payload(), private_key)


def parse_token(token: str) -> ParsedToken:
    """Split and validate a compact JWS certificate token; raises MalformedToken."""
    header, payload, signing_input, signature = split_compact_jws(token, MAX_TOKEN_LENGTH)
    if set(header) != {"alg", "kid"}:
        raise MalformedToken("header must contain exactly alg and kid")
    return ParsedToken(header, _claims_from_payload(payload), signing_input, signature)


def verify_signature(
    parsed: ParsedToken, public_key: ec.EllipticCurvePublicKey | Mapping[str, Any]
) -> bool:
    """True if the token's ES256 signature verifies with this public key (or public JWK)."""
    return verify_es256(parsed.signing_input, parsed.signature, public_key)


def check_token(
    text: str,
    *,
    public_keys: Mapping[str, ec.EllipticCurvePublicKey | Mapping[str, Any]],
    is_revoked: Callable[[str, int], bool],
    now: datetime,
    leeway_seconds: int = DEFAULT_LEEWAY_SECONDS,
) -> VerificationResult:
    """Check a scanned QR text or bare token; never raises on any input text."""
    # Only `now` and the callables can raise (programming or infrastructure errors), never `text`.
    now_seconds = epoch_seconds(now)
    try:
        parsed = parse_token(token_from_text(text))
    except MalformedToken:
        return VerificationResult(VerificationStatus.MALFORMED)
    kid = parsed.kid
    public_key = public_keys.get(kid)
    if public_key is None:
        return VerificationResult(VerificationStatus.UNKNOWN_KEY, kid=kid)
    if not verify_signature(parsed, public_key):
        return VerificationResult(VerificationStatus.INVALID_SIGNATURE, kid=kid)
    return VerificationResult(
        _status_of_genuine(parsed.claims, is_revoked, now_seconds, leeway_seconds),
        kid=kid,
        claims=parsed.claims,
    )


def encode_qr_text(token: str) -> str:
    """The QR text of a token: QR_PREFIX then two digits per character (ord(c) - 45)."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise MalformedToken("token is not a string of at most 2048 characters")
    if not _JWS_CHARS.fullmatch(token):
        raise MalformedToken("token has characters outside base64url and '.'")
    return QR_PREFIX + token.translate(_CHAR_TO_DIGITS)


def decode_qr_text(text: str) -> str:
    """Turn scanned QR text back into the token; raises MalformedToken on anything else."""
    if not isinstance(text, str):
        raise MalformedToken("QR text must be a string")
    text = text.strip()
    if not text.startswith(QR_PREFIX):
        raise MalformedToken(f"QR text must start with {QR_PREFIX!r}")
    digits = text[len(QR_PREFIX) :]
    if len(digits) > 2 * MAX_TOKEN_LENGTH or not _is_even_ascii_digits(digits):
        raise MalformedToken("QR text must continue with an even number of ASCII digits")
    token = _digit_pairs_to_text(digits)
    if token.translate(_JWS_CHAR_DELETION):
        raise MalformedToken("QR digits encode a character outside the token alphabet")
    return token


def token_from_text(text: str) -> str:
    """Accept either QR text (with QR_PREFIX) or a bare compact JWS and return the JWS."""
    if not isinstance(text, str):
        raise MalformedToken("token must be a string")
    stripped = text.strip()
    return decode_qr_text(stripped) if stripped.startswith(QR_PREFIX) else stripped


def epoch_seconds(moment: datetime) -> int:
    """Whole epoch seconds of an aware datetime; naive datetimes are refused."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        # A naive datetime would be read as server-local time and shift validity by hours.
        raise ValueError("expected a timezone-aware datetime")
    return int(moment.timestamp())


# --- compact JWS primitives (shared with status_list) -------------------------------------


def b64url_encode(data: bytes) -> str:
    """Unpadded base64url, as JWS uses."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict unpadded base64url: refuses other characters and non-canonical encodings."""
    # Strictness matters: the stdlib skips foreign characters and ignores unused trailing bits,
    # which would let a visibly altered token still decode to the signed bytes.
    if not _B64URL_CHARS.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedToken("segment is not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):  # pragma: no cover - excluded by the checks above
        raise MalformedToken("segment is not unpadded base64url") from None
    if b64url_encode(data) != text:
        raise MalformedToken("segment is not canonical base64url")
    return data


def compact_json(value: Any) -> bytes:
    """UTF-8 JSON without ASCII escapes or spaces: the smallest faithful encoding."""
    return json.dumps(value, ensure_ascii=False, separators=_JSON_SEPARATORS).encode("utf-8")


def sign_compact_jws(
    header: Mapping[str, Any],
    payload: Any,
    private_key: ec.EllipticCurvePrivateKey | SigningKey,
    *,
    deterministic: bool = False,
) -> str:
    """Sign a JSON payload as a compact ES256 JWS with the given header (`deterministic`:
    RFC 6979 nonces, so equal inputs give an equal token)."""
    if isinstance(private_key, SigningKey):
        if header.get("kid") != private_key.kid:
            # Signing under another key's kid makes tokens that no verifier will ever accept.
            raise ValueError("kid does not match the signing key")
        private_key = private_key.private_key
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):
        raise TypeError("private_key must be an EC P-256 private key")
    if header.get("alg") != ALG or not KID_PATTERN.fullmatch(str(header.get("kid", ""))):
        raise ValueError("header needs alg ES256 and a short kid")
    encoded_payload = b64url_encode(compact_json(payload))
    signing_input = f"{_encoded_header(compact_json(header))}.{encoded_payload}"
    algorithm = _ECDSA_SHA256_DETERMINISTIC if deterministic else _ECDSA_SHA256
    der = private_key.sign(signing_input.encode("ascii"), algorithm)
    r, s = decode_dss_signature(der)
    # JWS wants the fixed-size raw r||s form, not the DER that OpenSSL produces.
    raw = r.to_bytes(_COORDINATE_LENGTH, "big") + s.to_bytes(_COORDINATE_LENGTH, "big")
    return f"{signing_input}.{b64url_encode(raw)}"


def split_compact_jws(token: str, max_length: int) -> tuple[dict, Any, bytes, bytes]:
    """Decode header, payload, signing input and raw signature; raises MalformedToken."""
    if not isinstance(token, str):
        raise MalformedToken("token must be a string")
    if len(token) > max_length:
        raise MalformedToken(f"token is longer than {max_length} characters")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("token must have three dot-separated parts")
    header_segment, payload_segment, signature_segment = parts
    header = _parse_header_segment(header_segment)
    payload = _parse_json(b64url_decode(payload_segment))
    signature = b64url_decode(signature_segment)
    if len(signature) != _SIGNATURE_LENGTH:
        raise MalformedToken("ES256 signature must be 64 bytes")
    signing_input = f"{header_segment}.{payload_segment}".encode("ascii")
    return dict(header), payload, signing_input, signature


def verify_es256(
    signing_input: bytes,
    signature: bytes,
    public_key: ec.EllipticCurvePublicKey | Mapping[str, Any],
) -> bool:
    """True if a raw r||s ES256 signature over signing_input verifies with the key."""
    key = public_key if isinstance(public_key, ec.EllipticCurvePublicKey) else None
    if key is None:
        key = public_key_from_jwk(public_key)  # cached by coordinates
    if not isinstance(key.curve, ec.SECP256R1) or len(signature) != _SIGNATURE_LENGTH:
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:_COORDINATE_LENGTH], "big"),
        int.from_bytes(signature[_COORDINATE_LENGTH:], "big"),
    )
    try:
        key.verify(der, signing_input, _ECDSA_SHA256)
    except InvalidSignature:
        return False
    return True


# --- internals ------------------------------------------------------------------------------


def _is_even_ascii_digits(text: str) -> bool:
    # isdigit() alone also accepts other scripts' digits (e.g. Arabic-Indic) and superscripts.
    return len(text) % 2 == 0 and text.isascii() and (text.isdigit() or not text)


def _digit_pairs_to_text(digits: str) -> str:
    # Decodes all pairs at once in C instead of ~300 Python steps (this is on the verify path):
    # the tens digits become bytes 0..90 and the ones digits bytes 45..54, and adding the two as
    # big integers adds them byte by byte, since no byte sum (at most 144) carries over.
    raw = digits.encode("ascii")
    tens = int.from_bytes(raw[0::2].translate(_TENS_VALUE), "big")
    ones = int.from_bytes(raw[1::2].translate(_ONES_VALUE_PLUS_45), "big")
    return (tens + ones).to_bytes(len(raw) // 2, "big").decode("latin-1")


def _claims_problem(claims: CertificateClaims) -> str | None:
    if not isinstance(claims.issuer, str) or not ISSUER_PATTERN.fullmatch(claims.issuer):
        return "issuer must be 1-10 characters of A-Z a-z 0-9 -"
    if not isinstance(claims.certificate_id, str) or not CERTIFICATE_ID_PATTERN.fullmatch(
        claims.certificate_id
    ):
        return "certificate_id must be 8-24 base64url characters"
    if claims.kind not in KIND_CODES:
        return f"kind must be one of {sorted(KIND_CODES)}"
    if not _is_masked_holder(claims.holder):
        return "holder must be a masked name (use mask_name), at most 20 characters"
    for name in ("issued_at", "expires_at"):
        value = getattr(claims, name)
        if not _is_int(value) or not 0 <= value <= MAX_TIMESTAMP:
            return f"{name} must be epoch seconds between 0 and {MAX_TIMESTAMP}"
    if claims.expires_at <= claims.issued_at:
        return "expires_at must be after issued_at"
    if not _is_int(claims.revocation_index) or not (
        0 <= claims.revocation_index <= MAX_REVOCATION_INDEX
    ):
        return "revocation_index must be an int between 0 and 2**32-1"
    return None


def _is_masked_holder(holder: object) -> bool:
    # Requiring the mask character catches the mistake of signing an unmasked name.
    return (
        isinstance(holder, str)
        and 0 < len(holder) <= MAX_HOLDER_CHARS
        and len(holder.encode("utf-8", "surrogatepass")) <= MAX_HOLDER_BYTES
        and MASK_CHAR in holder
        and holder.isprintable()
        and holder == holder.strip()
        and unicodedata.is_normalized("NFC", holder)
    )


def _is_int(value: object) -> bool:
    # bool is an int subclass, and JSON true must not pass for 1.
    return isinstance(value, int) and not isinstance(value, bool)


def _claims_from_payload(payload: Any) -> CertificateClaims:
    if not isinstance(payload, dict) or payload.keys() != CLAIM_NAMES:
        raise MalformedToken("payload must contain exactly the claims i c k n t e r")
    kind = KIND_NAMES.get(payload[CLAIM_KIND]) if isinstance(payload[CLAIM_KIND], str) else None
    if kind is None:
        raise MalformedToken("unknown certificate kind code")
    try:
        return CertificateClaims(
            issuer=payload[CLAIM_ISSUER],
            certificate_id=payload[CLAIM_CERTIFICATE_ID],
            kind=kind,
            holder=payload[CLAIM_HOLDER],
            issued_at=payload[CLAIM_ISSUED_AT],
            expires_at=payload[CLAIM_EXPIRES_AT],
            revocation_index=payload[CLAIM_REVOCATION_INDEX],
        )
    except (ValueError, TypeError) as exc:
        raise MalformedToken(f"invalid claims: {exc}") from None


@lru_cache(maxsize=64)
def _parse_header_segment(segment: str) -> Mapping[str, Any]:
    # Cached: a deployment has a handful of kids, so there are only a handful of distinct headers.
    header = _parse_json(b64url_decode(segment))
    if not isinstance(header, dict):
        raise MalformedToken("header must be a JSON object")
    if header.get("alg") != ALG:
        raise MalformedToken("alg must be ES256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise MalformedToken("kid must be 1-8 characters of A-Z a-z 0-9 _ -")
    # Read-only because the cached object is shared between calls.
    return MappingProxyType(header)


@lru_cache(maxsize=64)
def _encoded_header(header_json: bytes) -> str:
    return b64url_encode(header_json)


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_object_without_duplicates,
            parse_constant=_reject_constant,
        )
    except (ValueError, RecursionError):
        raise MalformedToken("segment is not strict UTF-8 JSON") from None


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        # Parsers disagree on which duplicate wins; a verifier app might read the other one.
        raise MalformedToken("duplicate JSON member")
    return result


def _reject_constant(name: str) -> Any:
    raise MalformedToken(f"JSON constant {name} is not allowed")


def _status_of_genuine(
    claims: CertificateClaims,
    is_revoked: Callable[[str, int], bool],
    now_seconds: int,
    leeway_seconds: int,
) -> VerificationStatus:
    if is_revoked(claims.issuer, claims.revocation_index):
        return VerificationStatus.REVOKED
    # The leeway absorbs a verifier phone's clock being a few minutes off in either direction.
    if claims.issued_at > now_seconds + leeway_seconds:
        return VerificationStatus.NOT_YET_VALID
    if claims.expires_at <= now_seconds - leeway_seconds:
        return VerificationStatus.EXPIRED
    return VerificationStatus.VALID
