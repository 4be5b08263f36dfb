"""Whatever a file holds, reading it either gives a sale or refund or refuses it with a
DomainError (the reason file's text) — never another exception that would stall the folder."""

from __future__ import annotations

import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from integration_api.files import SALE_COLUMNS, read_report
from pos_member.errors import DomainError

cells = st.one_of(st.text(max_size=12), st.integers(-10, 10**9).map(str), st.just(""))


def reads_or_refuses(name: str, data: bytes) -> None:
    with contextlib.suppress(DomainError):
        read_report(name, data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_read_or_refused(data: bytes) -> None:
    reads_or_refuses("x.json", data)
    reads_or_refuses("x.csv", data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(cells, min_size=1, max_size=len(SALE_COLUMNS) + 2), max_size=6),
       st.sampled_from(["sale", "refund", "line", "tender", "x"]))
def test_csv_rows_of_anything_are_read_or_refused(rows: list[list[str]], first: str) -> None:
    text = ",".join(SALE_COLUMNS) + "\n" + "\n".join(
        ",".join([first if i == 0 and j == 0 else c.replace("\n", " ") for j, c in
                  enumerate(r)]) for i, r in enumerate(rows))
    reads_or_refuses("x.csv", text.encode())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["kind", "txn_id", "bill_no", "time", "amount_fen",
                                        "lines", "tenders", "member", "guide"]),
                       json_values, max_size=9))
def test_json_objects_of_anything_are_read_or_refused(value: dict[str, object]) -> None:
    reads_or_refuses("x.json", json.dumps(value).encode())
