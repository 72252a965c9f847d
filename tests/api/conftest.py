from __future__ import annotations

import pytest

from oims.api.auth import issue_token


@pytest.fixture
def token_for(db):
    def make(user, name: str = "テスト用") -> str:
        token, _row = issue_token(user, name)
        db.session.commit()
        return token

    return make


@pytest.fixture
def api(client, token_for):
    """api(user) -> a caller whose get/post/patch send the user's bearer token."""

    class Caller:
        def __init__(self, user):
            self.token = token_for(user)
            self.headers = {"Authorization": f"Bearer {self.token}"}

        def get(self, url, **kw):
            return client.get("/api/v1" + url, headers=self.headers, **kw)

        def post(self, url, json=None, **kw):
            return client.post("/api/v1" + url, headers=self.headers, json=json, **kw)

        def patch(self, url, json=None, **kw):
            return client.patch("/api/v1" + url, headers=self.headers, json=json, **kw)

    return Caller
