"""What each worker keeps in memory so that verifying a certificate costs no database round trip.

A `VerificationRegistry` holds the public keys, every issuer's revoked indices, the municipality
names and the signed status lists. Before answering it makes sure its copy is at most
`refresh_seconds` old: at most once per interval (lazily, on a request) it reads one number, the
version in `certification_state`, which every revocation and key rotation changes, and reloads
only when that number moved. So a revocation reaches every worker within `refresh_seconds`
(2 s by default) and a scan is a signature check against a dict and a set.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy.exc import SQLAlchemyError

from backend.certification.keys import (
    SigningKey,
    build_jwks,
    derive_master_key,
    load_signing_key,
    public_key_from_jwk,
)
from backend.certification.models import (
    Certificate,
    CertificateSigningKey,
    CertificateStatus,
    CertificationState,
    KeyStatus,
)
from backend.certification.status_list import build_status_list, sign_status_list
from backend.certification.token import (
    ISSUER_PATTERN,
    VerificationResult,
    check_token,
)
from backend.extensions import db
from backend.identity.models import Municipality

log = logging.getLogger(__name__)

STATE_ROW_ID = 1


@dataclass(frozen=True)
class Snapshot:
    """One consistent copy of everything verification needs, replaced as a whole."""

    version: int
    public_keys: Mapping[str, ec.EllipticCurvePublicKey]
    #: (public JWK, publish until) per key; None: always (the active key).
    published: tuple[tuple[dict[str, Any], datetime | None], ...]
    revoked: Mapping[str, frozenset[int]]
    active_kid: str | None
    active_blob: str | None = field(repr=False)


@dataclass(frozen=True)
class SignedLists:
    """Status lists signed for one snapshot."""

    version: int
    made_at: datetime
    issuers: frozenset[str]
    tokens: Mapping[str, str]


class VerificationRegistry:
    """Public keys, revocations and status lists of the whole deployment, kept in memory."""

    def __init__(
        self,
        *,
        key_secret: str,
        refresh_seconds: float = 2.0,
        status_list_size: int = 2**17,
        status_list_ttl: int = 24 * 3600,
        resign_seconds: int = 60,
        engine_factory: Callable[[], sa.Engine] | None = None,
    ) -> None:
        self.refresh_interval = timedelta(seconds=refresh_seconds)
        self.status_list_size = status_list_size
        self.status_list_ttl = status_list_ttl
        self.resign_interval = timedelta(seconds=resign_seconds)
        self._master_key = derive_master_key(key_secret)
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        self._checked_at: datetime | None = None
        self._confirmed_at: datetime | None = None
        self._names: Mapping[str, str] = {}
        self._names_at: datetime | None = None
        self._lists: SignedLists | None = None
        self._signing_keys: dict[tuple[str, str], SigningKey] = {}
        self._engine_factory = engine_factory
        self._engine: sa.Engine | None = None

    def _connect(self) -> sa.Connection:
        # The engine is remembered (an app's engine lives as long as the app), so a refresh
        # needs no app context.
        if self._engine is None:
            self._engine = self._engine_factory() if self._engine_factory else db.engine
        return self._engine.connect()

    # -- freshness ---------------------------------------------------------------------------

    @property
    def checked_at(self) -> datetime | None:
        """When this worker last confirmed its copy was current."""
        return self._checked_at

    @property
    def confirmed_at(self) -> datetime | None:
        """When this worker last read the version successfully: its keys and revocations are
        those of that moment (older than `checked_at` while the database is unreachable)."""
        return self._confirmed_at

    @property
    def master_key(self) -> bytes:
        """The key that encrypts signing keys at rest (derived from configuration, never stored)."""
        return self._master_key

    @property
    def snapshot(self) -> Snapshot | None:
        """The current copy (None before the first load)."""
        return self._snapshot

    def ensure_fresh(self, now: datetime) -> Snapshot:
        """Return a copy at most one refresh interval old, reading the version if it is due."""
        checked = self._checked_at
        # A clock that went backwards also triggers a check, so it can never stall refreshes.
        if checked is None or not checked <= now < checked + self.refresh_interval:
            self.refresh(now)
        assert self._snapshot is not None
        return self._snapshot

    def refresh(self, now: datetime, *, force: bool = False) -> None:
        """Read the version and reload keys, revocations and names if it changed."""
        first = self._snapshot is None
        if not self._lock.acquire(blocking=first):
            return  # another thread is refreshing; the current copy is at most one interval old
        try:
            with self._connect() as connection:
                version = self._read_version(connection)
                current = self._snapshot
                if force or current is None or current.version != version:
                    # The version is read first: a change committed while loading shows up as
                    # a newer version next time, never as data older than the version we keep.
                    self._snapshot = self._load(connection, version)
                    self._names = self._load_names(connection)
                    self._names_at = now
            self._checked_at = self._confirmed_at = now
        except SQLAlchemyError:
            if self._snapshot is None:
                raise
            # Keep answering from the last copy; try again after one interval.
            log.warning("certificate registry refresh failed; using the copy from %s", now)
            self._checked_at = now
        finally:
            self._lock.release()

    def invalidate(self) -> None:
        """Read the version on the next check (this worker just changed it)."""
        self._checked_at = None

    def reset(self) -> None:
        """Forget everything (tests that empty the database use this)."""
        with self._lock:
            self._snapshot = None
            self._checked_at = self._confirmed_at = None
            self._names, self._names_at = {}, None
            self._lists = None

    @staticmethod
    def _read_version(connection: sa.Connection) -> int:
        table = CertificationState.__table__
        version = connection.execute(
            sa.select(table.c.version).where(table.c.id == STATE_ROW_ID)
        ).scalar()
        return int(version or 0)

    def _load(self, connection: sa.Connection, version: int) -> Snapshot:
        keys = CertificateSigningKey.__table__
        certificates = Certificate.__table__
        municipalities = Municipality.__table__
        public_keys: dict[str, ec.EllipticCurvePublicKey] = {}
        published: list[tuple[dict[str, Any], datetime | None]] = []
        active_kid = active_blob = None
        rows = connection.execute(
            sa.select(
                keys.c.kid,
                keys.c.status,
                keys.c.public_jwk,
                keys.c.encrypted_private_key,
                keys.c.retired_at,
            ).order_by(keys.c.created_at)
        )
        for kid, status, jwk, blob, retired_at in rows:
            public_keys[kid] = public_key_from_jwk(jwk)
            if status == KeyStatus.ACTIVE:
                active_kid, active_blob = kid, blob
                published.append((jwk, None))
                continue
            # A retired key stays published until the last certificate it signed has expired.
            last_expiry = connection.execute(
                sa.select(sa.func.max(certificates.c.expires_at)).where(
                    certificates.c.key_kid == kid
                )
            ).scalar()
            published.append((jwk, max(filter(None, (last_expiry, retired_at)), default=None)))
        revoked: dict[str, set[int]] = {}
        rows = connection.execute(
            sa.select(municipalities.c.code, certificates.c.revocation_index)
            .join(municipalities, municipalities.c.id == certificates.c.municipality_id)
            .where(certificates.c.status == CertificateStatus.REVOKED)
        )
        for code, index in rows:
            revoked.setdefault(code, set()).add(index)
        return Snapshot(
            version=version,
            public_keys=public_keys,
            published=tuple(published),
            revoked={code: frozenset(indices) for code, indices in revoked.items()},
            active_kid=active_kid,
            active_blob=active_blob,
        )

    @staticmethod
    def _load_names(connection: sa.Connection) -> dict[str, str]:
        table = Municipality.__table__
        return dict(connection.execute(sa.select(table.c.code, table.c.name)).all())

    # -- verification (the hot path) ---------------------------------------------------------

    def check(self, text: str, now: datetime) -> VerificationResult:
        """Check scanned QR text or a bare token against the in-memory keys and revocations."""
        snapshot = self.ensure_fresh(now)
        size = self.status_list_size

        def is_revoked(issuer: str, index: int) -> bool:
            # Outside the list is revoked, as in the offline rule: we never issue such an index.
            if not 0 <= index < size:
                return True
            revoked = snapshot.revoked.get(issuer)
            return revoked is not None and index in revoked

        return check_token(text, public_keys=snapshot.public_keys, is_revoked=is_revoked, now=now)

    def municipality_name(self, code: str, now: datetime) -> str | None:
        """The name of the municipality with this issuer code (reloaded at most per interval)."""
        name = self._names.get(code)
        if name is None and (
            self._names_at is None
            or not self._names_at <= now < self._names_at + self.refresh_interval
        ):
            # A municipality created since the last load; only genuine tokens get here.
            try:
                with self._connect() as connection:
                    self._names = self._load_names(connection)
            except SQLAlchemyError:
                log.warning("could not reload municipality names")
            self._names_at = now
            name = self._names.get(code)
        return name

    # -- publication -------------------------------------------------------------------------

    def jwks(self, now: datetime) -> dict[str, Any]:
        """The JWKS: the active key and every retired key some unexpired certificate needs."""
        snapshot = self.ensure_fresh(now)
        return build_jwks(jwk for jwk, until in snapshot.published if until is None or until > now)

    def status_lists(self, now: datetime, issuer: str | None = None) -> list[str]:
        """Signed status lists, one per issuer (or only `issuer`'s), re-signed when due."""
        snapshot = self.ensure_fresh(now)
        if snapshot.active_kid is None:
            return []
        names_at = self._names_at
        if names_at is None or not names_at <= now < names_at + self.resign_interval:
            # Municipalities are added without a version change: look for new ones each minute.
            with self._connect() as connection:
                self._names = self._load_names(connection)
            self._names_at = now
        lists = self._lists
        issuers = frozenset(code for code in self._names if ISSUER_PATTERN.fullmatch(code))
        if (
            lists is None
            or lists.version != snapshot.version
            or lists.issuers != issuers
            or not lists.made_at <= now < lists.made_at + self.resign_interval
        ):
            lists = self._sign_lists(snapshot, issuers, now)
            self._lists = lists
        if issuer is not None:
            token = lists.tokens.get(issuer)
            return [token] if token else []
        return [lists.tokens[code] for code in sorted(lists.tokens)]

    def _sign_lists(
        self, snapshot: Snapshot, issuers: frozenset[str], now: datetime
    ) -> SignedLists:
        key = self.signing_key(snapshot.active_kid, snapshot.active_blob)
        # iat is when this worker last confirmed the revocations current, not the signing time.
        issued_at = min(self._checked_at or now, now)
        tokens = {}
        for code in issuers:
            claims = build_status_list(
                issuer=code,
                revoked_indices=sorted(snapshot.revoked.get(code, ())),
                size=self.status_list_size,
                issued_at=issued_at,
                ttl=self.status_list_ttl,
            )
            tokens[code] = sign_status_list(claims, private_key=key, kid=key.kid)
        return SignedLists(version=snapshot.version, made_at=now, issuers=issuers, tokens=tokens)

    def signing_key(self, kid: str | None, blob: str | None) -> SigningKey:
        """The decrypted signing key of a stored blob, decrypted once per process."""
        if kid is None or blob is None:
            raise LookupError("no active signing key")
        cache_key = (kid, blob)
        key = self._signing_keys.get(cache_key)
        if key is None:
            key = load_signing_key(blob, kid=kid, master_key=self._master_key)
            self._signing_keys = {cache_key: key}  # only the newest is ever needed
        return key
