"""Concurrent pushers and pullers: no pull ever skips a committed event.

A puller that walks its cursor while others push must see every stored event exactly once, in
the table's position order: on SQLite positions are gapless (one writer); on PostgreSQL they
come from the writing transaction and a pull stops below the oldest one still running."""

from __future__ import annotations

import threading

from sync.protocol import PushResponse
from tests.server.factories import LiveServer

PUSHERS = 6
PULLERS = 3
BATCHES = 8
BATCH = 15


def test_concurrent_pushes_and_pulls_never_skip_or_repeat_a_position(
    server: LiveServer,
) -> None:
    tills = [server.enrol() for _ in range(PUSHERS)]
    readers = [server.enrol() for _ in range(PULLERS)]
    batches = [[till.events(BATCH) for _ in range(BATCHES)] for till in tills]
    done = threading.Event()
    errors: list[BaseException] = []
    answers: list[PushResponse] = []
    seen: list[list[int]] = [[] for _ in readers]

    def push(i: int) -> None:
        try:
            for batch in batches[i]:
                answers.append(tills[i].push(batch))
        except BaseException as e:
            errors.append(e)

    def pull(i: int) -> None:
        cursor = 0
        try:
            while True:
                finished = done.is_set()  # read before the pull: one more full pass after
                page = readers[i].pull(cursor, limit=7)
                seen[i].extend(c.position for c in page.changes)
                cursor = page.cursor
                if finished and not page.more:
                    return
        except BaseException as e:
            errors.append(e)

    pullers = [threading.Thread(target=pull, args=(i,)) for i in range(PULLERS)]
    pushers = [threading.Thread(target=push, args=(i,)) for i in range(PUSHERS)]
    for t in pullers + pushers:
        t.start()
    for t in pushers:
        t.join()
    done.set()
    for t in pullers:
        t.join()

    assert errors == []
    total = PUSHERS * BATCHES * BATCH
    assert sum(len(a.stored) for a in answers) == total
    rows = server.events_table()
    assert len(rows) == total
    for positions in seen:
        assert positions == [r.position for r in rows]
    if server.backend == "sqlite":
        assert [r.position for r in rows] == list(range(1, total + 1))
    for till in tills:
        mine = [r.seq for r in rows if r.device_id == till.id]
        assert mine == list(range(1, BATCHES * BATCH + 1))
