"""``qr-image``: a holder's ``GET /api/v1/certificates/{id}/qr.png`` vs bare Flask hello-world.

The issue asks that serving a QR image take at most 5 ms. Drawing one costs ~4 ms (fixed mask)
the first time; after that each worker serves it from its cache, so a request costs the
authentication (token check, one session query), one certificate query and the cached bytes.
The figure that answers "<= 5 ms" is the latency with one connection per worker
(``python -m bench.run qr-image --connections 2``), where a request never waits behind another;
with 16 connections the p50 mostly measures the queue. Report only: see bench/README.md.
"""

from __future__ import annotations

from bench.harness import BARE_HELLO, Scenario, Target, register
from bench.scenarios.certificate_verify import FIXTURE, access_token, prepared_app_env

register(
    Scenario(
        name="qr-image",
        description="real app GET /certificates/{id}/qr.png (holder) vs bare Flask hello-world",
        candidate=Target(
            app="backend:create_app()",
            path=f"/api/v1/certificates/{FIXTURE['certificate_id']}/qr.png",
            headers={
                "Authorization": "Bearer "
                + access_token(str(FIXTURE["user_id"]), str(FIXTURE["session_id"]))
            },
            setup=prepared_app_env,
            health_path="/healthz",
            label="real app, QR PNG",
        ),
        baseline=BARE_HELLO,
        target_ratio=None,
    )
)
