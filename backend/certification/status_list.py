"""Signed revocation status lists for offline verifiers.

One list per issuer: a bitstring where bit ``i`` is 1 when the certificate with revocation index
``i`` is revoked, gzip-compressed, base64url-encoded and signed as a compact ES256 JWS with the
same keys as certificates. Bits are numbered from the most significant bit of the first byte
(index 0 is ``0x80`` of byte 0), like the W3C Bitstring Status List.

Indices are random rather than sequential, so the list reveals how many certificates were revoked
but not which ones were issued when, nor to whom.
"""

from __future__ import annotations

import gzip
import secrets
import zlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec

from backend.certification.keys import ALG, SigningKey
from backend.certification.token import (
    ISSUER_PATTERN,
    MAX_TIMESTAMP,
    MalformedToken,
    b64url_decode,
    b64url_encode,
    epoch_seconds,
    sign_compact_jws,
    split_compact_jws,
    verify_es256,
)

STATUS_LIST_TYP = "cpc-status+jwt"
DEFAULT_STATUS_LIST_SIZE = 2**17
MAX_STATUS_LIST_SIZE = 2**20
DEFAULT_TTL_SECONDS = 24 * 3600
MAX_TTL_SECONDS = 31 * 24 * 3600
# A fully random 2**20-bit list compresses to ~128 KiB, ~175 KiB in base64url; leave headroom.
MAX_STATUS_LIST_TOKEN_LENGTH = 512 * 1024
STATUS_LIST_CLAIMS = frozenset({"iss", "iat", "ttl", "size", "bits"})


class InvalidStatusList(ValueError):
    """A status list token is malformed, signed by an unknown key, or its signature is wrong."""


@dataclass(frozen=True, slots=True, repr=False)
class StatusList:
    """A verified revocation list of one issuer."""

    issuer: str
    issued_at: datetime
    ttl_seconds: int
    size: int
    bits: bytes

    def __repr__(self) -> str:
        return (
            f"StatusList(issuer={self.issuer!r}, issued_at={self.issued_at.isoformat()}, "
            f"ttl_seconds={self.ttl_seconds}, size={self.size}, revoked={self.revoked_count})"
        )

    @property
    def revoked_count(self) -> int:
        """How many indices are marked revoked."""
        return int.from_bytes(self.bits, "big").bit_count()

    def is_revoked(self, index: int) -> bool:
        """True if the index is revoked; indices outside the list count as revoked."""
        # Fail closed: the issuer never hands out an index >= size, so such a token is not ours
        # to vouch for, and "valid" would be the one wrong answer.
        if not 0 <= index < self.size:
            return True
        return bool(self.bits[index >> 3] & (0x80 >> (index & 7)))

    def stale(self, now: datetime) -> bool:
        """True once the list is older than its ttl: show "valid as of <issued_at>" then."""
        return (now - self.issued_at).total_seconds() > self.ttl_seconds


def build_status_list(
    *,
    issuer: str,
    revoked_indices: Iterable[int],
    size: int = DEFAULT_STATUS_LIST_SIZE,
    issued_at: datetime,
    ttl: int = DEFAULT_TTL_SECONDS,
) -> dict[str, Any]:
    """Build the status list claims (iss, iat, ttl, size, bits) for one issuer."""
    _check_issuer(issuer)
    _check_size(size)
    _check_ttl(ttl)
    bits = bytearray(size // 8)
    for index in revoked_indices:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise ValueError(f"revocation index {index!r} is outside 0..{size - 1}")
        bits[index >> 3] |= 0x80 >> (index & 7)
    return {
        "iss": issuer,
        "iat": epoch_seconds(issued_at),
        "ttl": ttl,
        "size": size,
        # mtime=0 keeps the output a pure function of the bits (no timestamp in the gzip header).
        "bits": b64url_encode(gzip.compress(bytes(bits), compresslevel=9, mtime=0)),
    }


def sign_status_list(
    claims: Mapping[str, Any],
    *,
    private_key: ec.EllipticCurvePrivateKey | SigningKey,
    kid: str,
) -> str:
    """Sign status list claims as a compact ES256 JWS (header alg, kid, typ)."""
    # typ separates the two kinds of JWS we sign: a status list can never parse as a certificate
    # (whose header must be exactly alg+kid) and vice versa.
    _decode_claims(dict(claims))  # refuse to sign anything a verifier would reject
    return sign_compact_jws({"alg": ALG, "kid": kid, "typ": STATUS_LIST_TYP}, claims, private_key)


def read_status_list(
    token: str, public_keys: Mapping[str, ec.EllipticCurvePublicKey | Mapping[str, Any]]
) -> StatusList:
    """Verify a signed status list and decode it; raises InvalidStatusList."""
    try:
        header, payload, signing_input, signature = split_compact_jws(
            token, MAX_STATUS_LIST_TOKEN_LENGTH
        )
    except MalformedToken as exc:
        raise InvalidStatusList(f"malformed status list: {exc}") from None
    if header != {"alg": ALG, "kid": header["kid"], "typ": STATUS_LIST_TYP}:
        raise InvalidStatusList("status list header must be exactly alg, kid and typ")
    public_key = public_keys.get(header["kid"])
    if public_key is None:
        raise InvalidStatusList(f"status list signed with unknown kid {header['kid']!r}")
    if not verify_es256(signing_input, signature, public_key):
        raise InvalidStatusList("status list signature is invalid")
    return _decode_claims(payload)


def random_revocation_index(
    size: int = DEFAULT_STATUS_LIST_SIZE, taken: Collection[int] = frozenset()
) -> int:
    """A uniformly random unused index below size (the database still enforces uniqueness)."""
    _check_size(size)
    if len(taken) >= size:
        raise ValueError("every revocation index is taken; grow the status list")
    if len(taken) * 2 < size:
        # Rejection sampling: fewer than two draws expected while the list is under half full.
        while (index := secrets.randbelow(size)) in taken:
            pass
        return index
    free = [index for index in range(size) if index not in taken]
    return free[secrets.randbelow(len(free))]


def _decode_claims(payload: Any) -> StatusList:
    if not isinstance(payload, dict) or payload.keys() != STATUS_LIST_CLAIMS:
        raise InvalidStatusList("status list must contain exactly iss, iat, ttl, size, bits")
    issuer, issued_at, ttl, size, encoded = (
        payload["iss"],
        payload["iat"],
        payload["ttl"],
        payload["size"],
        payload["bits"],
    )
    try:
        _check_issuer(issuer)
        _check_size(size)
        _check_ttl(ttl)
        if not _is_int(issued_at) or not 0 <= issued_at <= MAX_TIMESTAMP:
            raise ValueError("iat must be epoch seconds")
        if not isinstance(encoded, str):
            raise ValueError("bits must be a string")
        bits = _gunzip_exactly(b64url_decode(encoded), size // 8)
    except (ValueError, TypeError) as exc:
        raise InvalidStatusList(f"invalid status list claims: {exc}") from None
    return StatusList(
        issuer=issuer,
        issued_at=datetime.fromtimestamp(issued_at, UTC),
        ttl_seconds=ttl,
        size=size,
        bits=bits,
    )


def _gunzip_exactly(data: bytes, length: int) -> bytes:
    # Bounded decompression: a small hostile gzip could otherwise expand to gigabytes.
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        bits = decompressor.decompress(data, length + 1)
    except zlib.error as exc:
        raise ValueError("bits are not gzip data") from exc
    if len(bits) != length or not decompressor.eof or decompressor.unused_data:
        raise ValueError(f"bits must decompress to exactly {length} bytes")
    return bits


def _check_issuer(issuer: object) -> None:
    if not isinstance(issuer, str) or not ISSUER_PATTERN.fullmatch(issuer):
        raise ValueError("iss must be an issuer code of 1-10 characters of A-Z a-z 0-9 -")


def _check_size(size: object) -> None:
    if not _is_int(size) or not 8 <= size <= MAX_STATUS_LIST_SIZE or size % 8:
        raise ValueError(f"size must be a multiple of 8 from 8 to {MAX_STATUS_LIST_SIZE}")


def _check_ttl(ttl: object) -> None:
    if not _is_int(ttl) or not 1 <= ttl <= MAX_TTL_SECONDS:
        raise ValueError(f"ttl must be whole seconds from 1 to {MAX_TTL_SECONDS}")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
