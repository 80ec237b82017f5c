"""Certificate tokens: masking, signing, strict parsing, and every verification status."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.certification.keys import (
    SigningKey,
    build_jwks,
    generate_signing_key,
    public_key_from_jwk,
    public_keys_from_jwks,
)
from backend.certification.qr import qr_version
from backend.certification.status_list import read_status_list
from backend.certification.token import (
    MAX_TOKEN_LENGTH,
    QR_PREFIX,
    CertificateClaims,
    MalformedToken,
    VerificationStatus,
    b64url_decode,
    b64url_encode,
    build_certificate_claims,
    check_token,
    decode_qr_text,
    encode_qr_text,
    mask_name,
    parse_token,
    sign_certificate_token,
    verify_signature,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
ISSUER = "11680"
KEY = generate_signing_key()
OTHER_KEY = generate_signing_key()
PUBLIC_KEYS = {KEY.kid: KEY.public_key}


def make_claims(**overrides: object) -> CertificateClaims:
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "kind": "model_citizen",
        "holder_name": "홍길동",
        "issued_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=364),
        "revocation_index": 4242,
    }
    fields.update(overrides)
    return build_certificate_claims(**fields)  # type: ignore[arg-type]


def make_token(key: SigningKey = KEY, **overrides: object) -> str:
    return sign_certificate_token(
        make_claims(**overrides), private_key=key.private_key, kid=key.kid
    )


def forge(header: object, payload: object, key: SigningKey = KEY) -> str:
    """Sign arbitrary JSON (or raw bytes) with a real key, bypassing all of our validation."""

    def encode(part: object) -> str:
        return b64url_encode(part if isinstance(part, bytes) else json.dumps(part).encode())

    signing_input = f"{encode(header)}.{encode(payload)}"
    r, s = decode_dss_signature(
        key.private_key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    )
    return f"{signing_input}.{b64url_encode(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def valid_payload(**changes: object) -> dict[str, object]:
    payload = json.loads(b64url_decode(make_token().split(".")[1]))
    payload.update(changes)
    return payload


def never_revoked(issuer: str, index: int) -> bool:
    return False


def check(text: str, *, now: datetime = NOW, is_revoked=never_revoked, public_keys=None):
    return check_token(
        text,
        public_keys=PUBLIC_KEYS if public_keys is None else public_keys,
        is_revoked=is_revoked,
        now=now,
    )


# --- mask_name ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("홍길동", "홍*동"),
        ("홍길", "홍*"),
        ("남궁민수", "남궁*수"),
        ("제갈공명이", "제갈**이"),
        ("김철수민", "김**민"),
        ("김", "*"),
        ("  홍길동 ", "홍*동"),
        ("John Smith", "J**n S***h"),
        ("Li Na", "L* N*"),
        ("Maria de la Cruz", "M***a d* C**z"),
        ("Schwarzenegger", "S***r"),
    ],
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_mask_name_does_not_leak_jamo_of_a_decomposed_hangul_name() -> None:
    decomposed = unicodedata.normalize("NFD", "홍길동")
    assert len(decomposed) == 9  # jamo, not syllables
    assert mask_name(decomposed) == "홍*동"


@pytest.mark.parametrize("name", ["", "   ", "\t\n"])
def test_mask_name_refuses_empty_names(name: str) -> None:
    with pytest.raises(ValueError):
        mask_name(name)


def test_claims_refuse_an_unmasked_holder() -> None:
    with pytest.raises(ValueError, match="masked"):
        CertificateClaims(
            issuer=ISSUER,
            certificate_id="abcdefghijklmnop",
            kind="model_citizen",
            holder="홍길동",
            issued_at=1,
            expires_at=2,
            revocation_index=0,
        )


@pytest.mark.parametrize(
    "change",
    [
        {"issuer": "11680-TOO-LONG"},
        {"issuer": "서울"},
        {"certificate_id": "short"},
        {"kind": "mayor"},
        {"issued_at": True},
        {"expires_at": 1.5},
        {"revocation_index": -1},
        {"revocation_index": 2**32},
        {"expires_at": 10, "issued_at": 10},
    ],
)
def test_claims_validate_every_field(change: dict[str, object]) -> None:
    fields: dict[str, object] = {
        "issuer": ISSUER,
        "certificate_id": "abcdefghijklmnop",
        "kind": "model_citizen",
        "holder": "홍*동",
        "issued_at": 1,
        "expires_at": 2,
        "revocation_index": 0,
    }
    fields.update(change)
    with pytest.raises(ValueError):
        CertificateClaims(**fields)  # type: ignore[arg-type]


def test_build_claims_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_claims(issued_at=datetime(2025, 1, 1))


# --- format ---------------------------------------------------------------------------------


def test_token_header_holds_only_alg_and_kid() -> None:
    header = json.loads(b64url_decode(make_token().split(".")[0]))
    assert header == {"alg": "ES256", "kid": KEY.kid}


def test_token_payload_holds_exactly_the_seven_short_claims_as_raw_utf8() -> None:
    raw = b64url_decode(make_token().split(".")[1])
    assert "홍*동".encode() in raw  # not \\uXXXX escapes
    assert b" " not in raw
    payload = json.loads(raw)
    assert set(payload) == {"i", "c", "k", "n", "t", "e", "r"}
    assert payload["i"] == ISSUER
    assert payload["k"] == "mc"
    assert payload["n"] == "홍*동"
    assert payload["t"] == int((NOW - timedelta(days=1)).timestamp())
    assert payload["r"] == 4242


def test_certificate_ids_are_random() -> None:
    ids = {make_claims().certificate_id for _ in range(50)}
    assert len(ids) == 50
    assert all(len(certificate_id) == 16 for certificate_id in ids)


def test_parse_round_trips_the_claims() -> None:
    claims = make_claims(kind="committee_member", holder_name="남궁민수")
    parsed = parse_token(sign_certificate_token(claims, private_key=KEY.private_key, kid=KEY.kid))
    assert parsed.claims == claims
    assert parsed.kid == KEY.kid
    assert len(parsed.signature) == 64
    assert verify_signature(parsed, KEY.public_key)
    assert verify_signature(parsed, KEY.public_jwk())
    assert not verify_signature(parsed, OTHER_KEY.public_key)


def test_signing_refuses_a_kid_that_is_not_the_signing_keys() -> None:
    with pytest.raises(ValueError, match="kid"):
        sign_certificate_token(make_claims(), private_key=KEY, kid=OTHER_KEY.kid)
    assert check(sign_certificate_token(make_claims(), private_key=KEY, kid=KEY.kid)).is_valid


def test_qr_text_round_trips_and_is_digits_after_the_prefix() -> None:
    token = make_token()
    text = encode_qr_text(token)
    assert text.startswith(QR_PREFIX)
    assert text[len(QR_PREFIX) :].isdigit()
    assert len(text) == len(QR_PREFIX) + 2 * len(token)
    assert decode_qr_text(text) == token
    assert decode_qr_text(f"  {text}\n") == token


def test_qr_text_uses_the_smart_health_cards_digit_rule() -> None:
    assert encode_qr_text("-.A_z") == QR_PREFIX + "00" + "01" + "20" + "50" + "77"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "shc:/5676",
        "CPC1:/123",  # odd digit count
        "CPC1:/7800",  # 78 + 45 = '{', outside the token alphabet
        "CPC1:/1213",  # ':' and ';'
        "CPC1:/٠٠",  # Arabic-Indic digits
        "CPC1:/" + "00" * (MAX_TOKEN_LENGTH + 1),
        "cpc1:/0000",
    ],
)
def test_decode_qr_text_rejects_garbage(text: str) -> None:
    with pytest.raises(MalformedToken):
        decode_qr_text(text)


def test_malformed_token_is_a_value_error() -> None:
    assert issubclass(MalformedToken, ValueError)


# --- verification statuses ------------------------------------------------------------------


def test_valid_token_shows_the_displayable_claims() -> None:
    result = check(make_token())
    assert result.status is VerificationStatus.VALID
    assert result.is_valid
    assert result.kid == KEY.kid
    assert result.display() == {
        "holder": "홍*동",
        "kind": "model_citizen",
        "issuer": ISSUER,
        "issued_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=364),
    }
    assert result.to_dict()["expires_at"] == "2026-02-28T09:00:00Z"


def test_qr_text_verifies_like_the_bare_token() -> None:
    assert check(encode_qr_text(make_token())).status is VerificationStatus.VALID


def test_expired() -> None:
    result = check(make_token(), now=NOW + timedelta(days=400))
    assert result.status is VerificationStatus.EXPIRED
    assert result.display()["holder"] == "홍*동"


def test_not_yet_valid() -> None:
    token = make_token(issued_at=NOW + timedelta(hours=1), expires_at=NOW + timedelta(days=30))
    assert check(token).status is VerificationStatus.NOT_YET_VALID


def test_revoked_is_looked_up_by_issuer_and_index() -> None:
    asked: list[tuple[str, int]] = []

    def is_revoked(issuer: str, index: int) -> bool:
        asked.append((issuer, index))
        return True

    result = check(make_token(revocation_index=77), is_revoked=is_revoked)
    assert result.status is VerificationStatus.REVOKED
    assert asked == [(ISSUER, 77)]
    assert result.display() is not None


def test_revoked_wins_over_expired() -> None:
    result = check(make_token(), now=NOW + timedelta(days=400), is_revoked=lambda i, r: True)
    assert result.status is VerificationStatus.REVOKED


def test_clock_skew_leeway_is_five_minutes_each_way() -> None:
    expires = NOW + timedelta(days=1)
    token = make_token(expires_at=expires)
    assert check(token, now=expires + timedelta(seconds=299)).status is VerificationStatus.VALID
    assert check(token, now=expires + timedelta(seconds=300)).status is VerificationStatus.EXPIRED
    issued = NOW + timedelta(seconds=300)
    token = make_token(issued_at=issued, expires_at=issued + timedelta(days=1))
    assert check(token).status is VerificationStatus.VALID
    token = make_token(
        issued_at=issued + timedelta(seconds=1), expires_at=issued + timedelta(days=1)
    )
    assert check(token).status is VerificationStatus.NOT_YET_VALID


def test_unknown_kid() -> None:
    result = check(make_token(OTHER_KEY))
    assert result.status is VerificationStatus.UNKNOWN_KEY
    assert result.kid == OTHER_KEY.kid
    assert result.display() is None


def test_signature_from_another_key_under_our_kid_is_invalid() -> None:
    token = sign_certificate_token(make_claims(), private_key=OTHER_KEY.private_key, kid=KEY.kid)
    result = check(token)
    assert result.status is VerificationStatus.INVALID_SIGNATURE
    assert result.display() is None


def test_tampered_payload_is_invalid() -> None:
    header, _, signature = make_token(holder_name="홍길동").split(".")
    other_payload = make_token(holder_name="김철수").split(".")[1]
    assert (
        check(f"{header}.{other_payload}.{signature}").status
        is VerificationStatus.INVALID_SIGNATURE
    )


def test_revoked_index_cannot_be_swapped_for_an_unrevoked_one() -> None:
    header, payload, signature = make_token(revocation_index=1).split(".")
    claims = json.loads(b64url_decode(payload))
    claims["r"] = 2
    tampered = b64url_encode(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    assert check(f"{header}.{tampered}.{signature}").status is VerificationStatus.INVALID_SIGNATURE


def test_non_canonical_signature_encoding_is_malformed() -> None:
    # The last of 86 base64url characters carries 2 unused bits; setting them leaves the
    # decoded signature unchanged, so only a canonical-encoding check can notice.
    token = make_token()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(token[-1])
    altered = token[:-1] + alphabet[last | 1]
    if altered == token:
        altered = token[:-1] + alphabet[last | 2]
    assert check(altered).status is VerificationStatus.MALFORMED


HEADER = {"alg": "ES256", "kid": KEY.kid}


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param({"alg": "HS256", "kid": KEY.kid}, valid_payload(), id="alg-HS256"),
        pytest.param({"alg": "none", "kid": KEY.kid}, valid_payload(), id="alg-none"),
        pytest.param({"alg": "ES256"}, valid_payload(), id="no-kid"),
        pytest.param(dict(HEADER, jku="https://evil.example"), valid_payload(), id="extra-header"),
        pytest.param({"alg": "ES256", "kid": "much-too-long"}, valid_payload(), id="long-kid"),
        pytest.param(HEADER, valid_payload(e=None), id="null-claim"),
        pytest.param(
            HEADER, {k: v for k, v in valid_payload().items() if k != "e"}, id="missing-claim"
        ),
        pytest.param(HEADER, valid_payload(phone="010-1234-5678"), id="extra-claim"),
        pytest.param(HEADER, valid_payload(r="7"), id="string-index"),
        pytest.param(HEADER, valid_payload(r=True), id="bool-index"),
        pytest.param(HEADER, valid_payload(e=1.7e9), id="float-time"),
        pytest.param(HEADER, valid_payload(n="홍길동"), id="unmasked-name"),
        pytest.param(HEADER, valid_payload(n="\ud800*"), id="lone-surrogate-name"),
        pytest.param(HEADER, valid_payload(n="홍*\n동"), id="control-char-name"),
        pytest.param(HEADER, valid_payload(k="zz"), id="unknown-kind"),
        pytest.param(HEADER, valid_payload(i=11680), id="int-issuer"),
        pytest.param(HEADER, [1, 2, 3], id="array-payload"),
        # Every claim valid, but "i" twice: JSON parsers differ on which one wins.
        pytest.param(
            HEADER, json.dumps(valid_payload()).encode()[:-1] + b',"i":"1"}', id="duplicate"
        ),
        pytest.param(HEADER, b"\xff\xfe not utf-8", id="not-utf8"),
        pytest.param(HEADER, b'{"r": NaN}', id="nan"),
        pytest.param(HEADER, b"[" * 600 + b"]" * 600, id="deep-nesting"),
    ],
)
def test_correctly_signed_but_malformed_tokens_are_malformed(
    header: object, payload: object
) -> None:
    token = forge(header, payload)
    result = check(token)
    assert result.status is VerificationStatus.MALFORMED
    with pytest.raises(MalformedToken):
        parse_token(token)


def test_forge_helper_produces_tokens_we_accept() -> None:
    # Guards the test above: a forged token with valid contents must verify, or the malformed
    # cases could be failing for a reason of the helper's own.
    assert check(forge(HEADER, valid_payload())).status == "valid"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "a.b.c",
        "a.b",
        "a.b.c.d",
        "eyJ!.eyJ.abc",
        "eyJhbGciOiJFUzI1NiJ9.e30",
        "....",
        "\x00" * 10,
        "\ud800",
        QR_PREFIX + "\ud800",
    ],
)
def test_garbage_is_malformed(text: str) -> None:
    assert check(text).status is VerificationStatus.MALFORMED


def test_over_long_input_is_malformed_without_parsing() -> None:
    token = make_token()
    padded = token.split(".")[0] + "." + "A" * MAX_TOKEN_LENGTH + "." + token.split(".")[2]
    assert len(padded) > MAX_TOKEN_LENGTH
    assert check(padded).status is VerificationStatus.MALFORMED
    assert check("x" * 10_000_000).status is VerificationStatus.MALFORMED


def test_non_string_input_is_malformed() -> None:
    assert check(None).status is VerificationStatus.MALFORMED  # type: ignore[arg-type]
    assert check(make_token().encode()).status is VerificationStatus.MALFORMED  # type: ignore[arg-type]


def test_public_keys_may_be_given_as_published_jwks() -> None:
    jwk_keys = {jwk["kid"]: jwk for jwk in build_jwks([KEY])["keys"]}
    assert check(make_token(), public_keys=jwk_keys).status is VerificationStatus.VALID
    forged = sign_certificate_token(make_claims(), private_key=OTHER_KEY.private_key, kid=KEY.kid)
    assert check(forged, public_keys=jwk_keys).status is VerificationStatus.INVALID_SIGNATURE


def test_loaded_jwk_public_keys_are_cached() -> None:
    jwk = KEY.public_jwk()
    assert public_key_from_jwk(jwk) is public_key_from_jwk(dict(jwk))


def test_naive_now_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        check(make_token(), now=datetime(2025, 3, 1))


# --- never raises -----------------------------------------------------------------------------

TOKEN = make_token()
QR_TEXT = encode_qr_text(TOKEN)
NOT_VALID = {
    VerificationStatus.MALFORMED,
    VerificationStatus.UNKNOWN_KEY,
    VerificationStatus.INVALID_SIGNATURE,
}


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.text(st.characters(exclude_categories=()))))
def test_random_text_never_raises_and_is_never_valid(text: str) -> None:
    # The second strategy also draws lone surrogates, which st.text() leaves out.
    assert check(text).status in NOT_VALID


@given(st.text(alphabet="0123456789", max_size=800))
def test_random_qr_digits_never_raise(digits: str) -> None:
    assert check(QR_PREFIX + digits).status in NOT_VALID


@given(
    st.lists(
        st.sampled_from(["eyJ", ".", "A", "_", "-", "=", "e30", "eyJhbGciOiJFUzI1NiJ9", "ZZ"]),
        max_size=60,
    ).map("".join)
)
def test_random_token_shaped_text_never_raises(text: str) -> None:
    assert check(text).status in NOT_VALID


@given(st.data())
def test_any_single_character_change_is_never_valid(data: st.DataObject) -> None:
    text = data.draw(st.sampled_from([TOKEN, QR_TEXT]))
    position = data.draw(st.integers(0, len(text) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != text[position]))
    altered = text[:position] + replacement + text[position + 1 :]
    assert check(altered).status in NOT_VALID


@given(st.binary(max_size=300))
def test_random_signed_payload_bytes_never_raise(payload: bytes) -> None:
    # Correct signature over arbitrary bytes: everything past the signature check is exercised.
    status = check(forge({"alg": "ES256", "kid": KEY.kid}, payload)).status
    assert status is VerificationStatus.MALFORMED


# --- the worked example in mobile_contract/OFFLINE_VERIFICATION.md ---------------------------

DOC = Path(__file__).resolve().parents[2] / "mobile_contract" / "OFFLINE_VERIFICATION.md"


def doc_examples() -> dict[str, str]:
    blocks = re.findall(r"<!-- example: (\w+) -->\s*```\w*\n(.*?)\n```", DOC.read_text(), re.S)
    return dict(blocks)


def test_the_documented_example_decodes_as_the_doc_says() -> None:
    example = doc_examples()
    token = example["token"]
    assert decode_qr_text(example["qr_text"]) == token
    assert encode_qr_text(token) == example["qr_text"]
    assert len(example["qr_text"]) == 526
    header, payload, _ = token.split(".")
    assert b64url_decode(header).decode() == example["header"]
    assert b64url_decode(payload).decode() == example["payload"]
    assert qr_version(token, "M") == 11
    assert qr_version(token, "Q") == 13


@pytest.mark.parametrize(
    ("now", "status", "stale"),
    [
        (1748746800, VerificationStatus.VALID, False),
        (1749092400, VerificationStatus.VALID, True),
        (1740786600, VerificationStatus.NOT_YET_VALID, False),
        (1772323440, VerificationStatus.VALID, True),
        (1772323500, VerificationStatus.EXPIRED, True),
    ],
)
def test_the_documented_example_verifies_as_the_doc_says(
    now: int, status: VerificationStatus, stale: bool
) -> None:
    example = doc_examples()
    public_keys = public_keys_from_jwks(json.loads(example["jwks"]))
    status_list = read_status_list(example["status_list"], public_keys)
    moment = datetime.fromtimestamp(now, UTC)

    def is_revoked(issuer: str, index: int) -> bool:
        assert issuer == status_list.issuer
        return status_list.is_revoked(index)

    result = check_token(
        example["qr_text"], public_keys=public_keys, is_revoked=is_revoked, now=moment
    )
    assert result.status is status
    assert result.display()["holder"] == "홍*동"
    assert status_list.stale(moment) is stale
    assert int(example["now"]) == 1748746800


def test_the_documented_status_list_revokes_the_documented_indices() -> None:
    example = doc_examples()
    status_list = read_status_list(
        example["status_list"], public_keys_from_jwks(json.loads(example["jwks"]))
    )
    assert status_list.revoked_count == 2
    assert status_list.is_revoked(7) and status_list.is_revoked(4242)
    assert not status_list.is_revoked(90210)
    assert status_list.bits[11276] & 0x20 == 0
