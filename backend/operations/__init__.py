"""What an operations team needs around the API: the browsable reference, request logs and
metrics, backups and secret rotation. `register_operations(app)` wires it all in."""

from __future__ import annotations

from flask import Flask


def register_operations(app: Flask) -> None:
    """Install docs, request ids and logs, /metrics and the operations commands."""
    from backend.operations.backup import register_backup
    from backend.operations.docs import register_docs
    from backend.operations.key_secret import register_key_secret
    from backend.operations.metrics import observe_response, register_metrics
    from backend.operations.request_log import register_request_log

    register_request_log(app)
    register_metrics(app)

    def _observe(response):  # runs last of all after-request hooks (see request_log)
        observe_response(response)
        return response

    app.after_request_funcs.setdefault(None, []).insert(0, _observe)
    register_docs(app)
    register_backup(app)
    register_key_secret(app)
