"""Signed revocation status lists: round trip, tampering, staleness, bounded decompression."""

from __future__ import annotations

import gzip
import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend.certification.keys import generate_signing_key
from backend.certification.status_list import (
    DEFAULT_STATUS_LIST_SIZE,
    STATUS_LIST_TYP,
    InvalidStatusList,
    build_status_list,
    random_revocation_index,
    read_status_list,
    sign_status_list,
)
from backend.certification.token import (
    VerificationStatus,
    b64url_decode,
    b64url_encode,
    build_certificate_claims,
    check_token,
    parse_token,
    sign_certificate_token,
    sign_compact_jws,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
KEY = generate_signing_key()
OTHER_KEY = generate_signing_key()
PUBLIC_KEYS = {KEY.kid: KEY.public_key}


def signed_list(revoked=(), *, size=DEFAULT_STATUS_LIST_SIZE, ttl=3600, issued_at=NOW, key=KEY):
    claims = build_status_list(
        issuer="11680", revoked_indices=revoked, size=size, issued_at=issued_at, ttl=ttl
    )
    return sign_status_list(claims, private_key=key.private_key, kid=key.kid)


def resign(token: str, **claim_changes: object) -> str:
    """Change claims of a signed list and sign again with the real key (bypassing validation)."""
    header = json.loads(b64url_decode(token.split(".")[0]))
    claims = json.loads(b64url_decode(token.split(".")[1]))
    claims.update(claim_changes)
    return sign_compact_jws(header, claims, KEY)


def test_round_trip_marks_exactly_the_revoked_indices() -> None:
    revoked = {0, 7, 8, 4242, DEFAULT_STATUS_LIST_SIZE - 1}
    status_list = read_status_list(signed_list(revoked), PUBLIC_KEYS)
    assert status_list.issuer == "11680"
    assert status_list.issued_at == NOW
    assert status_list.size == DEFAULT_STATUS_LIST_SIZE
    assert status_list.revoked_count == len(revoked)
    assert all(status_list.is_revoked(index) for index in revoked)
    for index in (1, 6, 9, 4241, 4243, DEFAULT_STATUS_LIST_SIZE - 2):
        assert not status_list.is_revoked(index)


@given(st.sets(st.integers(0, 1023), max_size=64), st.integers(0, 1023))
def test_any_index_is_revoked_iff_it_was_listed(revoked: set[int], probe: int) -> None:
    status_list = read_status_list(signed_list(revoked, size=1024), PUBLIC_KEYS)
    assert status_list.is_revoked(probe) == (probe in revoked)


def test_bits_are_numbered_from_the_most_significant_bit() -> None:
    claims = build_status_list(
        issuer="11680", revoked_indices={0, 9}, size=16, issued_at=NOW, ttl=60
    )
    assert gzip.decompress(b64url_decode(claims["bits"])) == bytes([0x80, 0x40])


def test_claims_and_header_are_exactly_as_documented() -> None:
    token = signed_list({3})
    assert json.loads(b64url_decode(token.split(".")[0])) == {
        "alg": "ES256",
        "kid": KEY.kid,
        "typ": STATUS_LIST_TYP,
    }
    claims = json.loads(b64url_decode(token.split(".")[1]))
    assert set(claims) == {"iss", "iat", "ttl", "size", "bits"}
    assert claims["iat"] == int(NOW.timestamp())


def test_a_sparse_default_list_is_small() -> None:
    token = signed_list(set(range(0, DEFAULT_STATUS_LIST_SIZE, 997)))
    assert len(token) < 2000


def test_indices_outside_the_list_count_as_revoked() -> None:
    status_list = read_status_list(signed_list(size=64), PUBLIC_KEYS)
    assert status_list.is_revoked(64)
    assert status_list.is_revoked(-1)
    assert not status_list.is_revoked(63)


def test_build_refuses_out_of_range_indices_and_bad_parameters() -> None:
    with pytest.raises(ValueError):
        build_status_list(issuer="11680", revoked_indices={64}, size=64, issued_at=NOW, ttl=60)
    with pytest.raises(ValueError):
        build_status_list(issuer="11680", revoked_indices=(), size=60, issued_at=NOW, ttl=60)
    with pytest.raises(ValueError):
        build_status_list(issuer="11680", revoked_indices=(), size=64, issued_at=NOW, ttl=0)
    with pytest.raises(ValueError):
        build_status_list(
            issuer="11680", revoked_indices=(), size=64, issued_at=datetime(2025, 1, 1), ttl=60
        )


# --- staleness ------------------------------------------------------------------------------


def test_list_is_stale_only_after_its_ttl() -> None:
    status_list = read_status_list(signed_list(ttl=3600), PUBLIC_KEYS)
    assert not status_list.stale(NOW)
    assert not status_list.stale(NOW + timedelta(seconds=3600))
    assert status_list.stale(NOW + timedelta(seconds=3601))


# --- tampering ------------------------------------------------------------------------------


def test_a_list_with_a_bit_cleared_after_signing_is_refused() -> None:
    token = signed_list({5})
    header, payload, signature = token.split(".")
    claims = json.loads(b64url_decode(payload))
    claims["bits"] = build_status_list(
        issuer="11680", revoked_indices=(), size=DEFAULT_STATUS_LIST_SIZE, issued_at=NOW, ttl=3600
    )["bits"]
    tampered = b64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    with pytest.raises(InvalidStatusList, match="signature"):
        read_status_list(f"{header}.{tampered}.{signature}", PUBLIC_KEYS)


def test_a_list_signed_by_another_key_under_our_kid_is_refused() -> None:
    claims = build_status_list(issuer="11680", revoked_indices=(), size=64, issued_at=NOW, ttl=60)
    token = sign_status_list(claims, private_key=OTHER_KEY.private_key, kid=KEY.kid)
    with pytest.raises(InvalidStatusList, match="signature"):
        read_status_list(token, PUBLIC_KEYS)


def test_a_list_with_an_unknown_kid_is_refused() -> None:
    with pytest.raises(InvalidStatusList, match="unknown kid"):
        read_status_list(signed_list(key=OTHER_KEY), PUBLIC_KEYS)


@pytest.mark.parametrize("text", ["", "a.b.c", "not a token", "x" * 600_000])
def test_garbage_is_refused(text: str) -> None:
    with pytest.raises(InvalidStatusList):
        read_status_list(text, PUBLIC_KEYS)


@pytest.mark.parametrize(
    "changes",
    [
        {"size": 63},
        {"size": 128},  # bits no longer decompress to size/8 bytes
        {"ttl": -5},
        {"iat": "yesterday"},
        {"bits": b64url_encode(b"not gzip")},
        {"bits": b64url_encode(gzip.compress(b"\x00" * 10_000_000))},  # a decompression bomb
        {"extra": 1},
    ],
)
def test_signed_but_invalid_claims_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(InvalidStatusList):
        read_status_list(resign(signed_list(size=64), **changes), PUBLIC_KEYS)


def test_resign_helper_produces_lists_we_accept() -> None:
    # Guards the test above: an unchanged re-signed list must still be read.
    assert read_status_list(resign(signed_list(size=64)), PUBLIC_KEYS).size == 64


def test_status_lists_and_certificates_cannot_stand_in_for_each_other() -> None:
    status_token = signed_list(size=64)
    assert (
        check_token(
            status_token, public_keys=PUBLIC_KEYS, is_revoked=lambda i, r: False, now=NOW
        ).status
        is VerificationStatus.MALFORMED
    )
    certificate = sign_certificate_token(
        build_certificate_claims(
            issuer="11680",
            kind="model_citizen",
            holder_name="홍길동",
            issued_at=NOW,
            expires_at=NOW + timedelta(days=1),
            revocation_index=3,
        ),
        private_key=KEY.private_key,
        kid=KEY.kid,
    )
    parse_token(certificate)
    with pytest.raises(InvalidStatusList):
        read_status_list(certificate, PUBLIC_KEYS)


# --- used together with check_token ---------------------------------------------------------


def test_check_token_with_a_status_list_reports_revoked_certificates() -> None:
    status_list = read_status_list(signed_list({3}), PUBLIC_KEYS)

    def token(index: int) -> str:
        claims = build_certificate_claims(
            issuer="11680",
            kind="model_citizen",
            holder_name="홍길동",
            issued_at=NOW,
            expires_at=NOW + timedelta(days=1),
            revocation_index=index,
        )
        return sign_certificate_token(claims, private_key=KEY.private_key, kid=KEY.kid)

    def is_revoked(issuer: str, index: int) -> bool:
        return issuer != status_list.issuer or status_list.is_revoked(index)

    def status(index: int) -> VerificationStatus:
        return check_token(
            token(index), public_keys=PUBLIC_KEYS, is_revoked=is_revoked, now=NOW
        ).status

    assert status(3) is VerificationStatus.REVOKED
    assert status(4) is VerificationStatus.VALID


# --- random indices -------------------------------------------------------------------------


def test_random_revocation_index_avoids_taken_indices() -> None:
    taken = set(range(0, 64, 2))
    drawn = {random_revocation_index(64, taken) for _ in range(200)}
    assert drawn <= set(range(1, 64, 2))
    assert len(drawn) > 16  # actually random, not a counter


def test_random_revocation_index_works_when_the_list_is_nearly_full() -> None:
    taken = set(range(64)) - {41}
    assert random_revocation_index(64, taken) == 41
    with pytest.raises(ValueError):
        random_revocation_index(64, set(range(64)))
