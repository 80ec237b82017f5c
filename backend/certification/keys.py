"""ES256 (P-256) signing keys: generation, key ids, public JWK/JWKS export, encryption at rest.

Signing keys belong to the deployment (the platform operator), not to one municipality: the
``issuer`` claim inside a token is asserted by the platform, which only lets officials issue for
their own municipality. Private keys are stored only encrypted (AES-256-GCM over PKCS#8 DER) with a
master key that comes from configuration, never from the database.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

ALG = "ES256"
CRV = "P-256"
KID_LENGTH = 6
KID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,8}")
MASTER_KEY_LENGTH = 32
MIN_SECRET_LENGTH = 16

# Versioned so that a later format (other cipher, other KDF) can coexist with stored blobs.
ENCRYPTED_KEY_PREFIX = "cpk1."
_AAD_LABEL = b"coproduction-platform/certificate-signing-key/v1"
_HKDF_SALT = b"coproduction-platform/certificate-keys"
_HKDF_INFO = b"master-key/v1"
_NONCE_LENGTH = 12
_COORDINATE_LENGTH = 32


class KeyDecryptionError(ValueError):
    """An encrypted private key could not be decrypted (wrong master key, wrong kid, corrupt)."""


class InvalidJwk(ValueError):
    """A JWK is not a valid ES256 (EC P-256) public key."""


@dataclass(frozen=True, repr=False, eq=False)
class SigningKey:
    """A private signing key with its key id; ``repr`` never shows key material."""

    kid: str
    private_key: ec.EllipticCurvePrivateKey

    def __post_init__(self) -> None:
        _require_kid(self.kid)
        _require_p256_private_key(self.private_key)

    def __repr__(self) -> str:
        return f"SigningKey(kid={self.kid!r}, alg={ALG!r}, private_key=<redacted>)"

    __str__ = __repr__

    def __reduce__(self):
        # Pickling would copy the private key into caches, queues or logs.
        raise TypeError("SigningKey cannot be pickled; store it with encrypt_private_key()")

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public half of this key."""
        return self.private_key.public_key()

    def public_jwk(self) -> dict[str, str]:
        """The public JWK of this key, as published in the JWKS."""
        return public_jwk(self.public_key, kid=self.kid)


def generate_signing_key(kid: str | None = None) -> SigningKey:
    """Generate a new P-256 signing key; the kid defaults to a thumbprint prefix."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    return SigningKey(kid=kid or key_id_for(private_key.public_key()), private_key=private_key)


def key_id_for(public_key: ec.EllipticCurvePublicKey) -> str:
    """A short kid: the first characters of the RFC 7638 JWK thumbprint."""
    # Derived rather than random so anyone can recompute it from the JWK; 36 bits is plenty for
    # the handful of keys a deployment rotates through, and the DB keeps kids unique anyway.
    x, y = _coordinates(public_key)
    canonical = json.dumps(
        {"crv": CRV, "kty": "EC", "x": x, "y": y}, separators=(",", ":"), sort_keys=True
    )
    digest = hashlib.sha256(canonical.encode("ascii")).digest()
    return _b64url(digest)[:KID_LENGTH]


def public_jwk(public_key: ec.EllipticCurvePublicKey, *, kid: str) -> dict[str, str]:
    """Export a P-256 public key as a JWK with kty, crv, x, y, kid, alg and use."""
    _require_kid(kid)
    _require_p256_public_key(public_key)
    x, y = _coordinates(public_key)
    return {"kty": "EC", "crv": CRV, "x": x, "y": y, "kid": kid, "alg": ALG, "use": "sig"}


def build_jwks(keys: Iterable[SigningKey | ec.EllipticCurvePublicKey | Mapping[str, Any]]) -> dict:
    """Build the ``/.well-known/jwks.json`` document from signing keys or stored public JWKs."""
    # Retired keys must stay published (as stored public JWKs) until every certificate they
    # signed has expired, otherwise offline verifiers would report those certificates forged.
    published: list[dict[str, str]] = []
    seen: set[str] = set()
    for key in keys:
        jwk = _to_public_jwk(key)
        if jwk["kid"] in seen:
            raise ValueError(f"duplicate kid in JWKS: {jwk['kid']!r}")
        seen.add(jwk["kid"])
        published.append(jwk)
    return {"keys": published}


def public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """Load a P-256 public key from a JWK (validated, cached by coordinates)."""
    if not isinstance(jwk, Mapping):
        raise InvalidJwk("JWK must be a JSON object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != CRV:
        raise InvalidJwk("JWK must have kty 'EC' and crv 'P-256'")
    if jwk.get("alg", ALG) != ALG or jwk.get("use", "sig") != "sig":
        raise InvalidJwk("JWK must be for alg 'ES256' and use 'sig'")
    x, y = jwk.get("x"), jwk.get("y")
    if not isinstance(x, str) or not isinstance(y, str):
        raise InvalidJwk("JWK x and y must be strings")
    return _load_public_point(x, y)


def public_keys_from_jwks(jwks: Mapping[str, Any]) -> dict[str, ec.EllipticCurvePublicKey]:
    """Map kid → loaded public key for every key of a JWKS document."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list):
        raise InvalidJwk("JWKS must be an object with a 'keys' list")
    loaded: dict[str, ec.EllipticCurvePublicKey] = {}
    for jwk in keys:
        kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
        if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
            raise InvalidJwk("every JWK needs a short kid")
        loaded[kid] = public_key_from_jwk(jwk)
    return loaded


def derive_master_key(secret: str) -> bytes:
    """Derive the 32-byte AES key for private keys from a configured secret (HKDF-SHA256)."""
    # HKDF does not slow down guessing: the secret must already be high-entropy
    # (e.g. secrets.token_urlsafe(32)), not a human passphrase.
    if not isinstance(secret, str) or len(secret) < MIN_SECRET_LENGTH:
        raise ValueError(f"the key secret must be a string of at least {MIN_SECRET_LENGTH} chars")
    hkdf = HKDF(
        algorithm=hashes.SHA256(), length=MASTER_KEY_LENGTH, salt=_HKDF_SALT, info=_HKDF_INFO
    )
    return hkdf.derive(secret.encode("utf-8"))


def encrypt_private_key(
    key: SigningKey | ec.EllipticCurvePrivateKey, *, master_key: bytes, kid: str | None = None
) -> str:
    """Encrypt a private key (PKCS#8 DER, AES-256-GCM) into a text blob for the database."""
    # The kid (a SigningKey's own kid by default) is authenticated data: a blob copied to the row
    # of another kid will not decrypt, so rows cannot be swapped to sign under a different kid.
    if isinstance(key, SigningKey):
        private_key, kid = key.private_key, key.kid if kid is None else kid
    else:
        private_key = key
    _require_p256_private_key(private_key)
    der = private_key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    nonce = os.urandom(_NONCE_LENGTH)
    sealed = AESGCM(_require_master_key(master_key)).encrypt(nonce, der, _aad(kid or ""))
    return ENCRYPTED_KEY_PREFIX + _b64url(nonce + sealed)


def decrypt_private_key(
    blob: str, *, master_key: bytes, kid: str = ""
) -> ec.EllipticCurvePrivateKey:
    """Decrypt a blob from encrypt_private_key (same kid); raises KeyDecryptionError on failure."""
    aesgcm = AESGCM(_require_master_key(master_key))
    if not isinstance(blob, str) or not blob.startswith(ENCRYPTED_KEY_PREFIX):
        raise KeyDecryptionError("not an encrypted signing key blob")
    try:
        raw = _b64url_decode(blob[len(ENCRYPTED_KEY_PREFIX) :])
    except ValueError as exc:
        raise KeyDecryptionError("encrypted key blob is not base64url") from exc
    if len(raw) <= _NONCE_LENGTH + 16:
        raise KeyDecryptionError("encrypted key blob is truncated")
    try:
        der = aesgcm.decrypt(raw[:_NONCE_LENGTH], raw[_NONCE_LENGTH:], _aad(kid))
    except InvalidTag:
        raise KeyDecryptionError("wrong master key or kid, or the blob was altered") from None
    try:
        private_key = serialization.load_der_private_key(der, password=None)
    except ValueError as exc:  # pragma: no cover - only if we encrypted garbage ourselves
        raise KeyDecryptionError("decrypted data is not a PKCS#8 key") from exc
    if not isinstance(private_key, ec.EllipticCurvePrivateKey) or not isinstance(
        private_key.curve, ec.SECP256R1
    ):  # pragma: no cover - same
        raise KeyDecryptionError("decrypted key is not a P-256 key")
    return private_key


def load_signing_key(blob: str, *, kid: str, master_key: bytes) -> SigningKey:
    """Decrypt a blob made by ``encrypt_private_key(signing_key, ...)`` back into a SigningKey."""
    private_key = decrypt_private_key(blob, master_key=master_key, kid=kid)
    return SigningKey(kid=kid, private_key=private_key)


def _to_public_jwk(key: SigningKey | ec.EllipticCurvePublicKey | Mapping[str, Any]) -> dict:
    if isinstance(key, SigningKey):
        return key.public_jwk()
    if isinstance(key, ec.EllipticCurvePublicKey):
        return public_jwk(key, kid=key_id_for(key))
    if isinstance(key, Mapping):
        kid = key.get("kid")
        if not isinstance(kid, str):
            raise InvalidJwk("a published JWK needs a kid")
        # Re-export rather than copy so no private member ("d") can slip into the JWKS.
        return public_jwk(public_key_from_jwk(key), kid=kid)
    raise TypeError(f"cannot publish {type(key).__name__} in a JWKS")


@lru_cache(maxsize=256)
def _load_public_point(x: str, y: str) -> ec.EllipticCurvePublicKey:
    # Cached because building a key object (point decompression, on-curve check) costs more than
    # the whole rest of token parsing; verification is a hot path.
    try:
        x_bytes, y_bytes = _b64url_decode(x), _b64url_decode(y)
    except ValueError as exc:
        raise InvalidJwk("JWK x and y must be base64url") from exc
    if len(x_bytes) != _COORDINATE_LENGTH or len(y_bytes) != _COORDINATE_LENGTH:
        raise InvalidJwk("JWK x and y must be 32 bytes each")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b"\x04" + x_bytes + y_bytes
        )
    except ValueError as exc:
        raise InvalidJwk("JWK point is not on the P-256 curve") from exc


def _coordinates(public_key: ec.EllipticCurvePublicKey) -> tuple[str, str]:
    numbers = public_key.public_numbers()
    return (
        _b64url(numbers.x.to_bytes(_COORDINATE_LENGTH, "big")),
        _b64url(numbers.y.to_bytes(_COORDINATE_LENGTH, "big")),
    )


def _aad(kid: str) -> bytes:
    return _AAD_LABEL + b"|" + kid.encode("utf-8")


def _require_master_key(master_key: bytes) -> bytes:
    if not isinstance(master_key, bytes | bytearray) or len(master_key) != MASTER_KEY_LENGTH:
        raise ValueError(f"master_key must be {MASTER_KEY_LENGTH} bytes (use derive_master_key)")
    return bytes(master_key)


def _require_kid(kid: str) -> None:
    if not isinstance(kid, str) or not KID_PATTERN.fullmatch(kid):
        raise ValueError("kid must be 1-8 characters of A-Z a-z 0-9 _ -")


def _require_p256_private_key(key: object) -> None:
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
        raise TypeError("expected an EC P-256 private key")


def _require_p256_public_key(key: object) -> None:
    if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
        raise TypeError("expected an EC P-256 public key")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL_CHARS = re.compile(r"[A-Za-z0-9_-]*")


def _b64url_decode(text: str) -> bytes:
    # The stdlib decoder silently skips characters outside the alphabet; refuse them instead.
    if not _B64URL_CHARS.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not unpadded base64url")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:  # pragma: no cover - excluded by the checks above
        raise ValueError("not unpadded base64url") from exc
