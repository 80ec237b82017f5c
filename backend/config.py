"""Settings from environment variables, with safe defaults for the embedded (SQLite) mode."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("INSTANCE_DIR", PROJECT_ROOT / "instance"))


def _persistent_secret(name: str) -> str:
    """Return a secret kept in the instance folder, created on first use.

    The embedded mode must survive a restart without logging everyone out, yet must never ship
    a hard-coded secret; production sets the value through the environment instead.
    """
    INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
    path = INSTANCE_DIR / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def load_config() -> dict[str, Any]:
    """Build the configuration mapping from the environment."""
    database_url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'coproduction.db'}")
    secret = os.environ.get("SECRET_KEY") or _persistent_secret("secret_key")
    return {
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # hide_parameters: a logged database error must not carry the row's personal data.
        "SQLALCHEMY_ENGINE_OPTIONS": {
            "pool_pre_ping": not database_url.startswith("sqlite"),
            "hide_parameters": True,
        },
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        "JWT_SECRET_KEY": os.environ.get("JWT_SECRET_KEY") or secret,
        "JWT_ACCESS_TOKEN_EXPIRES": timedelta(minutes=_env_int("ACCESS_TOKEN_MINUTES", 15)),
        "JWT_REFRESH_TOKEN_EXPIRES": timedelta(days=_env_int("REFRESH_TOKEN_DAYS", 30)),
        "LOGIN_MAX_FAILURES": _env_int("LOGIN_MAX_FAILURES", 5),
        "LOGIN_LOCK_MINUTES": _env_int("LOGIN_LOCK_MINUTES", 15),
        "CHECK_IN_WINDOW_SECONDS": _env_int("CHECK_IN_WINDOW_SECONDS", 60),
        "CHECK_IN_OPENS_BEFORE_MINUTES": _env_int("CHECK_IN_OPENS_BEFORE_MINUTES", 30),
        "PAGE_SIZE_DEFAULT": 20,
        "PAGE_SIZE_MAX": 100,
        "TIMEZONE": "Asia/Seoul",
        # Push through Firebase Cloud Messaging (see backend/notifications/fcm.py). With no
        # credentials (neither a key file, nor GOOGLE_APPLICATION_CREDENTIALS in the
        # environment, nor a fake server's static token) push is off: inbox only.
        "FIREBASE_CREDENTIALS_FILE": os.environ.get("FIREBASE_CREDENTIALS_FILE") or None,
        "FIREBASE_PROJECT_ID": os.environ.get("FIREBASE_PROJECT_ID") or None,
        "FCM_ENDPOINT": os.environ.get("FCM_ENDPOINT") or None,
        "FCM_STATIC_TOKEN": os.environ.get("FCM_STATIC_TOKEN") or None,
        "FCM_TIMEOUT_SECONDS": _env_float("FCM_TIMEOUT_SECONDS", 10.0),
        "FCM_MAX_CONNECTIONS": _env_int("FCM_MAX_CONNECTIONS", 100),
        # The delivery worker (flask notifications deliver).
        "NOTIFICATIONS_BATCH_SIZE": _env_int("NOTIFICATIONS_BATCH_SIZE", 500),
        "NOTIFICATIONS_LEASE_SECONDS": _env_float("NOTIFICATIONS_LEASE_SECONDS", 120.0),
        "NOTIFICATIONS_MAX_ATTEMPTS": _env_int("NOTIFICATIONS_MAX_ATTEMPTS", 10),
        "NOTIFICATIONS_RETRY_BASE_SECONDS": _env_float("NOTIFICATIONS_RETRY_BASE_SECONDS", 5.0),
        "NOTIFICATIONS_MAX_AGE_SECONDS": _env_float("NOTIFICATIONS_MAX_AGE_SECONDS", 72 * 3600.0),
        "NOTIFICATIONS_IDLE_SECONDS": _env_float("NOTIFICATIONS_IDLE_SECONDS", 2.0),
        # Console jobs (flask jobs run): rows per transaction, jobs small enough to run inside
        # the request, the worker's lease on a job and its idle poll.
        "CONSOLE_JOB_CHUNK_ROWS": _env_int("CONSOLE_JOB_CHUNK_ROWS", 50),
        "CONSOLE_JOB_INLINE_ROWS": _env_int("CONSOLE_JOB_INLINE_ROWS", 50),
        "JOBS_LEASE_SECONDS": _env_float("JOBS_LEASE_SECONDS", 120.0),
        "JOBS_IDLE_SECONDS": _env_float("JOBS_IDLE_SECONDS", 1.0),
        # flask-smorest / OpenAPI
        "API_TITLE": "Co-production participation platform",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        # The contract is served by our own view (it adds security, roles and error answers).
        "OPENAPI_URL_PREFIX": None,
        "JSON_SORT_KEYS": False,
        # Meeting tickets: MT1 (HMAC) tickets, issued before the signed MT2, are still accepted
        # while phones may hold cached ones; turn off once every client shows MT2 tickets.
        "TICKETS_ACCEPT_MT1": os.environ.get("TICKETS_ACCEPT_MT1", "1") not in ("0", "false"),
        # Certificates (모범시민증): signing keys are stored encrypted with a key derived from this
        # secret; it never goes into the database.
        "CERTIFICATE_KEY_SECRET": os.environ.get("CERTIFICATE_KEY_SECRET")
        or _persistent_secret("certificate_key_secret"),
        "CERTIFICATE_DEFAULT_VALIDITY_MONTHS": _env_int("CERTIFICATE_DEFAULT_VALIDITY_MONTHS", 24),
        "CERTIFICATE_RENEWAL_WINDOW_DAYS": _env_int("CERTIFICATE_RENEWAL_WINDOW_DAYS", 60),
        "CERTIFICATE_EXPIRING_NOTICE_DAYS": _env_int("CERTIFICATE_EXPIRING_NOTICE_DAYS", 30),
        "CERTIFICATE_STATUS_LIST_SIZE": _env_int("CERTIFICATE_STATUS_LIST_SIZE", 2**17),
        "CERTIFICATE_STATUS_LIST_TTL": _env_int("CERTIFICATE_STATUS_LIST_TTL", 24 * 3600),
        # The printable certificate's TrueType fonts (Debian's fonts-nanum), embedded in the PDF.
        "CERTIFICATE_PDF_FONT": os.environ.get(
            "CERTIFICATE_PDF_FONT", "/usr/share/fonts/truetype/nanum/NanumGothic.ttf"
        ),
        "CERTIFICATE_PDF_BOLD_FONT": os.environ.get(
            "CERTIFICATE_PDF_BOLD_FONT", "/usr/share/fonts/truetype/nanum/NanumGothicBold.ttf"
        ),
        # The verifier app (/verify/): how often it refreshes keys and status lists when online,
        # after how long without a refresh its answers turn amber ("valid as of"), and how far
        # the phone's clock may differ from the server's before it is called wrong.
        "VERIFIER_REFRESH_SECONDS": _env_int("VERIFIER_REFRESH_SECONDS", 3 * 3600),
        "VERIFIER_GRACE_SECONDS": _env_int("VERIFIER_GRACE_SECONDS", 48 * 3600),
        "VERIFIER_CLOCK_TOLERANCE_SECONDS": _env_int("VERIFIER_CLOCK_TOLERANCE_SECONDS", 300),
        "CERTIFICATE_STATUS_LIST_RESIGN_SECONDS": _env_int(
            "CERTIFICATE_STATUS_LIST_RESIGN_SECONDS", 60
        ),
        # How often each worker re-reads the revocation version (one tiny query); a revocation
        # reaches every worker within this many seconds (kept <= 5 by the guarantee).
        "CERTIFICATE_REFRESH_SECONDS": float(os.environ.get("CERTIFICATE_REFRESH_SECONDS", 2)),
        # Per client address and per worker, in memory (token bucket): sustained rate and burst.
        "CERTIFICATE_VERIFY_RATE": float(os.environ.get("CERTIFICATE_VERIFY_RATE", 10)),
        "CERTIFICATE_VERIFY_BURST": _env_int("CERTIFICATE_VERIFY_BURST", 60),
        # Reverse proxies in front of the app whose X-Forwarded-For is trusted (0: none).
        "TRUSTED_PROXY_COUNT": _env_int("TRUSTED_PROXY_COUNT", 0),
        # Operations (backend/operations, backend/ratelimit.py; README's runbook).
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "RATE_LIMIT_PREFIX": os.environ.get("RATE_LIMIT_PREFIX", "coproduction"),
        "CHECK_IN_GUESS_LIMIT": _env_int("CHECK_IN_GUESS_LIMIT", 10),
        "CHECK_IN_GUESS_WINDOW_SECONDS": _env_int("CHECK_IN_GUESS_WINDOW_SECONDS", 600),
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN") or None,
        "METRICS_ALLOWED_NETWORKS": os.environ.get(
            "METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128"
        ),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        # Largest request body (413 payload_too_large above it); nginx's client_max_body_size
        # in deploy/nginx/coproduction.conf is the same.
        "MAX_CONTENT_LENGTH": _env_int("MAX_REQUEST_BYTES", 1024 * 1024),
        # Personal data: access records are kept at least 2 years (the safety-measure standard
        # asks 1, 2 for large systems); a citizen's export stays downloadable this many hours;
        # an export with more rows than this is made by `flask privacy exports`, not inline.
        "ACCESS_RECORD_RETENTION_DAYS": max(730, _env_int("ACCESS_RECORD_RETENTION_DAYS", 730)),
        "DATA_EXPORT_HOURS": _env_int("DATA_EXPORT_HOURS", 72),
        "DATA_EXPORT_INLINE_ROWS": _env_int("DATA_EXPORT_INLINE_ROWS", 500),
        # What a deleted account leaves for the accounts (money paid) is purged after this.
        "RETAINED_PAYMENT_YEARS": _env_int("RETAINED_PAYMENT_YEARS", 5),
        # "package.module:factory" of a plugged-in identity provider (backend/privacy/assurance.py).
        "IDENTITY_PROVIDER": os.environ.get("IDENTITY_PROVIDER") or None,
    }
