"""A database that cannot answer is "not now" (503 with Retry-After), never a 500: the till
keeps its events and retries, as when HQ is offline."""

from __future__ import annotations

import psycopg
import pytest

from sync.protocol import API
from tests.server.factories import LiveServer
from tests.server.postgres import PostgresServer


@pytest.fixture(params=["postgresql"])
def database_url(postgres: PostgresServer) -> str:
    url = postgres.create_database(migrated=True)
    return url


def _drop(postgres: PostgresServer, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(postgres.admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


def test_push_pull_and_health_answer_503_while_the_database_is_gone(
        server: LiveServer, postgres: PostgresServer) -> None:
    device = server.enrol()
    assert device.push(device.events(3)).acked_through == 3
    _drop(postgres, server.url)

    answers = {
        "push": device.push_raw(device.events(2)),
        "pull": server.http.get(f"{API}/pull", params={"cursor": 0}, headers=device.headers),
        "health": server.http.get(f"{API}/health"),
    }
    for name, answer in answers.items():
        assert answer.status_code == 503, name
        assert answer.json()["code"] == "database_unavailable", name
        assert int(answer.headers["Retry-After"]) >= 1, name
        assert "psycopg" not in answer.text and "FATAL" not in answer.text, name
