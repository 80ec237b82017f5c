"""Signing keys: JWK/JWKS export checked by an independent JOSE library, encryption at rest."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet

from backend.certification.keys import (
    ENCRYPTED_KEY_PREFIX,
    InvalidJwk,
    KeyDecryptionError,
    SigningKey,
    build_jwks,
    decrypt_private_key,
    derive_master_key,
    encrypt_private_key,
    generate_signing_key,
    key_id_for,
    load_signing_key,
    public_jwk,
    public_key_from_jwk,
    public_keys_from_jwks,
)
from backend.certification.token import (
    b64url_encode,
    build_certificate_claims,
    sign_certificate_token,
)

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
MASTER_KEY = derive_master_key("test-secret-of-enough-length-0123456789")


def make_token(key: SigningKey) -> str:
    claims = build_certificate_claims(
        issuer="11680",
        kind="model_citizen",
        holder_name="홍길동",
        issued_at=NOW,
        expires_at=NOW + timedelta(days=365),
        revocation_index=7,
    )
    return sign_certificate_token(claims, private_key=key.private_key, kid=key.kid)


def private_secrets(key: SigningKey) -> list[str]:
    """Every common spelling of the private scalar, for leak checks."""
    d = key.private_key.private_numbers().private_value
    pem = key.private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return [str(d), f"{d:x}", b64url_encode(d.to_bytes(32, "big")), pem.splitlines()[1]]


# --- kids and JWKs --------------------------------------------------------------------------


def test_kid_is_short_and_derived_from_the_public_key() -> None:
    key = generate_signing_key()
    assert len(key.kid) == 6
    assert key.kid == key_id_for(key.public_key)
    assert generate_signing_key().kid != key.kid


def test_explicit_kid_is_validated() -> None:
    assert generate_signing_key("k2025a").kid == "k2025a"
    with pytest.raises(ValueError):
        generate_signing_key("kid with spaces")


def test_public_jwk_has_exactly_the_published_members() -> None:
    key = generate_signing_key()
    jwk = key.public_jwk()
    assert set(jwk) == {"kty", "crv", "x", "y", "kid", "alg", "use"}
    assert (jwk["kty"], jwk["crv"], jwk["alg"], jwk["use"]) == ("EC", "P-256", "ES256", "sig")
    assert len(jwk["x"]) == len(jwk["y"]) == 43
    assert public_key_from_jwk(jwk).public_numbers() == key.public_key.public_numbers()


def test_jwks_document_lists_current_and_retired_keys() -> None:
    current, retired = generate_signing_key(), generate_signing_key()
    stored_retired_jwk = json.loads(json.dumps(retired.public_jwk()))
    jwks = build_jwks([current, stored_retired_jwk])
    assert [jwk["kid"] for jwk in jwks["keys"]] == [current.kid, retired.kid]
    assert set(public_keys_from_jwks(jwks)) == {current.kid, retired.kid}


def test_jwks_refuses_duplicate_kids() -> None:
    key = generate_signing_key()
    with pytest.raises(ValueError, match="duplicate"):
        build_jwks([key, key.public_jwk()])


def test_jwks_never_republishes_a_private_member() -> None:
    key = generate_signing_key()
    leaky = dict(key.public_jwk(), d=b64url_encode(b"\x01" * 32))
    published = build_jwks([leaky])["keys"][0]
    assert "d" not in published


def test_jwks_json_contains_no_private_material() -> None:
    key = generate_signing_key()
    text = json.dumps(build_jwks([key]))
    for secret in private_secrets(key):
        assert secret not in text


@pytest.mark.parametrize(
    "change",
    [
        {"kty": "RSA"},
        {"crv": "P-384"},
        {"alg": "RS256"},
        {"use": "enc"},
        {"x": "short"},
        {"x": "not base64!"},
        {"y": b64url_encode(b"\x00" * 31 + b"\x01")},  # not on the curve
        {"x": 5},
    ],
)
def test_invalid_jwks_are_refused(change: dict[str, object]) -> None:
    jwk = dict(generate_signing_key().public_jwk(), **change)
    with pytest.raises(InvalidJwk):
        public_key_from_jwk(jwk)


def test_public_jwk_refuses_other_curves() -> None:
    with pytest.raises(TypeError):
        public_jwk(ec.generate_private_key(ec.SECP384R1()).public_key(), kid="abc")


# --- independent verification ---------------------------------------------------------------


def test_an_independent_jose_library_verifies_tokens_from_the_published_jwks_alone() -> None:
    key = generate_signing_key()
    token = make_token(key)
    jwks_json = json.dumps(build_jwks([generate_signing_key(), key]))  # what the server serves

    key_set = KeySet.import_key_set(json.loads(jwks_json))
    verified = jws.deserialize_compact(token, key_set, algorithms=["ES256"])

    assert verified.protected == {"alg": "ES256", "kid": key.kid}
    assert json.loads(verified.payload)["n"] == "홍*동"


def test_the_independent_library_rejects_a_token_signed_by_an_unpublished_key() -> None:
    published, rogue = generate_signing_key(), generate_signing_key()
    token = sign_certificate_token(
        build_certificate_claims(
            issuer="11680",
            kind="model_citizen",
            holder_name="홍길동",
            issued_at=NOW,
            expires_at=NOW + timedelta(days=1),
            revocation_index=1,
        ),
        private_key=rogue.private_key,
        kid=published.kid,
    )
    key_set = KeySet.import_key_set(build_jwks([published]))
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(token, key_set, algorithms=["ES256"])


# --- encryption at rest ---------------------------------------------------------------------


def test_encrypted_key_round_trips() -> None:
    key = generate_signing_key()
    blob = encrypt_private_key(key, master_key=MASTER_KEY)
    assert blob.startswith(ENCRYPTED_KEY_PREFIX)
    loaded = load_signing_key(blob, kid=key.kid, master_key=MASTER_KEY)
    assert loaded.kid == key.kid
    assert loaded.private_key.private_numbers() == key.private_key.private_numbers()


def test_raw_private_keys_round_trip_without_a_kid() -> None:
    private_key = ec.generate_private_key(ec.SECP256R1())
    blob = encrypt_private_key(private_key, master_key=MASTER_KEY)
    decrypted = decrypt_private_key(blob, master_key=MASTER_KEY)
    assert decrypted.private_numbers() == private_key.private_numbers()


def test_encryption_is_randomised_and_hides_the_key() -> None:
    key = generate_signing_key()
    first = encrypt_private_key(key, master_key=MASTER_KEY)
    second = encrypt_private_key(key, master_key=MASTER_KEY)
    assert first != second
    for secret in private_secrets(key):
        assert secret not in first


def test_wrong_master_key_fails_cleanly() -> None:
    key = generate_signing_key()
    blob = encrypt_private_key(key, master_key=MASTER_KEY)
    other = derive_master_key("another-secret-of-enough-length-9876")
    with pytest.raises(KeyDecryptionError, match="wrong master key"):
        load_signing_key(blob, kid=key.kid, master_key=other)


def test_a_blob_moved_to_another_kid_does_not_decrypt() -> None:
    key = generate_signing_key()
    blob = encrypt_private_key(key, master_key=MASTER_KEY)
    with pytest.raises(KeyDecryptionError):
        load_signing_key(blob, kid="other1", master_key=MASTER_KEY)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda blob: blob[:-2] + ("AA" if blob[-2:] != "AA" else "BB"),
        lambda blob: blob[:20],
        lambda blob: "v0." + blob[5:],
        lambda blob: blob + "!",
        lambda blob: ENCRYPTED_KEY_PREFIX,
    ],
)
def test_corrupt_blobs_fail_cleanly(mangle) -> None:
    key = generate_signing_key()
    blob = encrypt_private_key(key, master_key=MASTER_KEY)
    with pytest.raises(KeyDecryptionError):
        load_signing_key(mangle(blob), kid=key.kid, master_key=MASTER_KEY)


def test_master_key_derivation_is_deterministic_and_32_bytes() -> None:
    secret = "a-configured-secret-0123456789"
    assert derive_master_key(secret) == derive_master_key(secret)
    assert len(derive_master_key(secret)) == 32
    assert derive_master_key(secret) != derive_master_key(secret + "x")


def test_short_secrets_and_wrong_size_master_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        derive_master_key("short")
    with pytest.raises(ValueError):
        encrypt_private_key(generate_signing_key(), master_key=b"\x00" * 16)


# --- no leaks -------------------------------------------------------------------------------


def test_repr_and_str_do_not_reveal_the_private_key() -> None:
    key = generate_signing_key()
    for shown in (repr(key), str(key), f"{key}", repr([key]), repr({"k": key})):
        assert key.kid in shown
        assert "redacted" in shown
        for secret in private_secrets(key):
            assert secret not in shown


def test_signing_keys_refuse_to_be_pickled_or_copied_into_caches() -> None:
    key = generate_signing_key()
    with pytest.raises(TypeError):
        pickle.dumps(key)
    with pytest.raises(TypeError):
        copy.deepcopy(key)


def test_signing_key_refuses_other_curves() -> None:
    with pytest.raises(TypeError):
        SigningKey(kid="abc", private_key=ec.generate_private_key(ec.SECP384R1()))
