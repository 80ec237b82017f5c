"""The console: server-rendered pages for officials, schedulers, the ministry and admins.

Its pages are clients of the same rules as the API: they load input with the API's schemas,
admit the roles of the API view they mirror (`backend.console.auth.mirrors`) and call the same
services, so every write is checked, scoped and audited exactly once, in the services.
"""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint(
    "console",
    __name__,
    url_prefix="/console",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

# The page modules attach their views to `bp` (imported for that effect, in menu order).
from backend.console import (  # noqa: E402, F401
    activities,
    admin,
    auth,
    certificates,
    citizens,
    committees,
    jobs,
    meetings,
    ministry,
    projects,
    reports,
    rewards,
    sheets,
    surveys,
)
