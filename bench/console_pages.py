"""How fast the console's pages answer on the demo data: every page each demo role can reach.

    python -m bench.console_pages                   # fresh SQLite file, demo data
    python -m bench.console_pages --database-url postgresql+psycopg2://postgres@127.0.0.1/db

Signs in through the login form as each staff account of the demo (admin, analyst, officials,
verifier, scheduler), follows every `/console/` link of every page it reaches (breadth first, one
page per route pattern and id kind is enough: at most `--pages` pages per role), then times each
page `--repeat` times through the Flask test client (server time only: no network, no browser
rendering) and prints the slowest. Pages that write (forms) are not followed: only links. The
issue asks "every page of the demo answers in well under a second"; bench/README.md has figures.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from urllib.parse import urldefrag, urlsplit

_LINK = re.compile(r'href="(/console/[^"]*)"')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
#: Links that end a session or leave the HTML pages (PDF, PNG, CSV are timed too, but a logout
#: would sign the crawler out).
_SKIP = ("/console/logout",)


def _shape(path: str) -> str:
    """One page per route shape: ids (26 characters of Crockford base32) count as one."""
    return re.sub(r"/[0-9A-HJKMNP-TV-Z]{26}", "/<id>", urlsplit(path).path)


def _crawl(client, start: str, limit: int) -> list[str]:
    seen_shapes: set[str] = set()
    queue, pages = [start], []
    while queue and len(pages) < limit:
        path = urldefrag(queue.pop(0))[0].replace("&amp;", "&")
        shape = _shape(path) + ("?" if "?" in path else "")
        if shape in seen_shapes or path.startswith(_SKIP):
            continue
        seen_shapes.add(shape)
        answer = client.get(path)
        if answer.status_code != 200:
            continue
        pages.append(path)
        if answer.mimetype == "text/html":
            queue.extend(_LINK.findall(answer.get_data(as_text=True)))
    return pages


def main() -> None:
    """Seed the demo, crawl as every staff role, time every page, print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--pages", type=int, default=60, help="pages per role at most")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="bench-console-")
    url = args.database_url or f"sqlite:///{tmp}/bench.db"
    os.environ.setdefault("SECRET_KEY", "bench-secret-key-0123456789-0123456789")
    os.environ.setdefault("CERTIFICATE_KEY_SECRET", "bench-certificate-secret-0123456789")
    os.environ["INSTANCE_DIR"] = tmp
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from backend import create_app
    from backend.cli import DEMO_PASSWORD, DEMO_USERS, seed_demo_data
    from backend.models import MIGRATIONS_DIR
    from backend.permissions import Role

    if url.startswith("postgresql"):
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            connection.execute(sa.text("DROP SCHEMA public CASCADE"))
            connection.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        seed_demo_data()

    timings: list[tuple[float, float, str, str]] = []
    for role, email, _name, _code in DEMO_USERS:
        if role == Role.CITIZEN:
            continue
        client = app.test_client()
        login_page = client.get("/console/login").get_data(as_text=True)
        answer = client.post(
            "/console/login",
            data={
                "identifier": email,
                "password": DEMO_PASSWORD,
                "csrf_token": _CSRF.search(login_page).group(1),
            },
        )
        assert answer.status_code == 303, f"{email} could not sign in"
        for path in _crawl(client, "/console/", args.pages):
            runs = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                assert client.get(path).status_code == 200, path
                runs.append((time.perf_counter() - start) * 1000)
            timings.append((statistics.median(runs), max(runs), role.value, path))
    timings.sort(reverse=True)
    print(f"database: {url.split(':')[0]}; {len(timings)} pages timed, {args.repeat} runs each")
    print(f"{'median ms':>10} {'max ms':>8}  role        page")
    for median, worst, role, path in timings[: args.top]:
        print(f"{median:10.1f} {worst:8.1f}  {role:<11} {path}")
    medians = [t[0] for t in timings]
    print(
        f"all pages: median {statistics.median(medians):.1f} ms, slowest {max(medians):.1f} ms "
        f"(median of its runs), {sum(m >= 1000 for m in medians)} at or above one second"
    )


if __name__ == "__main__":
    main()
