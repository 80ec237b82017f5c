"""The browsable API reference is served by the platform itself, with no outside asset."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _local_refs(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def test_reference_page_loads_only_local_assets(client):
    page = client.get("/docs/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    refs = _local_refs(page.get_data(as_text=True))
    assert "/docs/swagger-ui-bundle.js" in refs and "/docs/init.js" in refs
    for ref in refs:
        assert ref.startswith("/docs/"), ref  # nothing from a CDN
        asset = client.get(ref)
        assert asset.status_code == 200, ref
        assert len(asset.data) > 100, ref
    script = client.get("/docs/init.js").get_data(as_text=True)
    assert '"/api/v1/openapi.json"' in script and "validatorUrl: null" in script


def test_reference_reads_the_committed_contract(client):
    served = client.get("/api/v1/openapi.json")
    committed = json.loads((ROOT / "mobile_contract" / "openapi.json").read_text())
    assert served.json == committed


def test_swagger_ui_licence_is_served_beside_it(client):
    licence = client.get("/docs/LICENSE")
    assert licence.status_code == 200 and b"Apache License" in licence.data


def test_unknown_docs_file_is_a_json_404(client):
    response = client.get("/docs/../../setup.cfg")
    assert response.status_code == 404
    missing = client.get("/docs/secret.txt")
    assert missing.status_code == 404
    assert set(missing.json["error"]) == {"code", "message", "fields"}


def test_index_and_readme_link_the_reference(client):
    index = client.get("/")
    assert index.status_code == 200
    assert 'href="/docs/"' in index.get_data(as_text=True)
    assert "/docs/" in (ROOT / "README.md").read_text()
