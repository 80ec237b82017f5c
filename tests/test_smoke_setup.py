def test_app_builds_and_migrates(client):
    assert client.get("/healthz").json == {"status": "ok"}
