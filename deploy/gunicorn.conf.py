"""gunicorn settings for the API (deploy/systemd/coproduction-api.service uses this file).

Sync workers (the endpoints are CPU-bound, see bench/README.md); Prometheus multi-process
mode: every worker writes its metrics under PROMETHEUS_MULTIPROC_DIR, emptied at start, and a
dead worker's live gauges are dropped.
"""

import multiprocessing
import os
import shutil

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2))
worker_class = "sync"
# A request longer than this is killed and its worker replaced (its transaction rolls back).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Header limits as nginx's (deploy/nginx/coproduction.conf: large_client_header_buffers 4 8k).
limit_request_line = 8190
limit_request_field_size = 8190
limit_request_fields = 100
# nginx on the same host is the only proxy whose X-Forwarded-* gunicorn believes.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app writes one JSON line per request (with its request id): no second access log.
accesslog = None
errorlog = "-"
loglevel = "info"
# Load the app after the fork: each worker opens its own database connections.
preload_app = False


def on_starting(server):
    """Start with an empty metrics directory (old files would add up stale counts)."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)


def child_exit(server, worker):
    """Drop a dead worker's live gauges (the pool gauges are `livesum`)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
