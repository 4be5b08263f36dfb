"""The watched folder's file formats: one sale or one refund per file, JSON or CSV, read into
the same request models as the API (``schemas.SaleIn``, ``schemas.RefundIn``), so a file and a
request are checked alike. docs/integration.md, "Watched folder"; samples in docs/examples/.

JSON: the API's body with ``"kind": "sale"`` or ``"kind": "refund"``. CSV (UTF-8, header
row): a ``record`` column says what each row is — one ``sale`` or ``refund`` row, then its
``line`` rows (and a sale's ``tender`` rows); the other columns are the API's field names.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Annotated, Any, Literal

from pydantic import Field, TypeAdapter, ValidationError

from integration_api import schemas as s
from pos_member.integration import reports
from pos_member.integration.errors import FileMalformed

MAX_FILE = 256 * 1024
SALE_COLUMNS = ("record", "txn_id", "bill_no", "time", "amount_fen", "member", "guide",
                "redeem_points", "line", "category", "kind", "payment_txn_id")
REFUND_COLUMNS = ("record", "txn_id", "bill_no", "amount_fen", "line")
_WHOLE = re.compile(r"^-?\d+$")


class SaleFile(s.SaleIn):
    kind: Literal["sale"]


class RefundFile(s.RefundIn):
    kind: Literal["refund"]


_FILE = TypeAdapter(Annotated[SaleFile | RefundFile, Field(discriminator="kind")])


def read_report(name: str, data: bytes) -> reports.SaleReport | reports.RefundReport:
    """The sale or refund in a file's bytes; :class:`FileMalformed` names what is wrong."""
    if len(data) > MAX_FILE:
        raise FileMalformed(problem=f"over {MAX_FILE} bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise FileMalformed(problem="not UTF-8 text") from None
    if name.lower().endswith(".csv"):
        try:
            value: Any = _csv(text)
        except csv.Error as e:
            raise FileMalformed(problem=f"not CSV ({e})") from None
    else:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            raise FileMalformed(problem=f"not JSON ({e.msg}, line {e.lineno})") from None
        except (ValueError, RecursionError):  # a number of thousands of digits; too deep
            raise FileMalformed(problem="not JSON a reader takes (a number too long, or "
                                        "nested too deep)") from None
    try:
        parsed = _FILE.validate_python(value)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "file"
        raise FileMalformed(problem=f"{where}: {first['msg']}") from None
    return parsed.report()


def _fen(value: str, column: str) -> int | str:
    """A whole number of fen as the JSON model wants it; anything else stays text, which the
    model refuses (``12.50`` is not fen)."""
    return int(value) if _WHOLE.match(value) else value


def _csv(text: str) -> dict[str, Any]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    if "record" not in columns:
        raise FileMalformed(problem="no 'record' column in the header row")
    rows = list(reader)
    if not rows or rows[0].get("record") not in ("sale", "refund"):
        raise FileMalformed(problem="the first row is not a 'sale' or 'refund' record")
    kind = rows[0]["record"]
    allowed = SALE_COLUMNS if kind == "sale" else REFUND_COLUMNS
    unknown = [c for c in columns if c not in allowed]
    if unknown:
        raise FileMalformed(problem=f"unknown column '{unknown[0]}'")
    if any(None in r for r in rows):
        raise FileMalformed(problem="a row has more cells than the header")
    head = {k: (v or "").strip() for k, v in rows[0].items()}
    out: dict[str, Any] = {"kind": kind, "txn_id": head.get("txn_id", ""),
                           "bill_no": head.get("bill_no", ""), "lines": []}
    if head.get("amount_fen"):
        out["amount_fen"] = _fen(head["amount_fen"], "amount_fen")
    if kind == "sale":
        out.update(time=head.get("time", ""), member=head.get("member") or None,
                   guide=head.get("guide") or None, tenders=[])
        if head.get("redeem_points"):
            out["redeem_points"] = _fen(head["redeem_points"], "redeem_points")
    for n, row in enumerate(rows[1:], start=3):
        r = {k: (v or "").strip() for k, v in row.items()}
        amount = _fen(r.get("amount_fen", ""), "amount_fen")
        if r.get("record") == "line":
            line: dict[str, Any] = {"line": r.get("line", ""), "amount_fen": amount}
            if kind == "sale":
                line["category"] = r.get("category", "")
            out["lines"].append(line)
        elif r.get("record") == "tender" and kind == "sale":
            out["tenders"].append({"kind": r.get("kind", ""), "amount_fen": amount,
                                   "payment_txn_id": r.get("payment_txn_id") or None})
        else:
            raise FileMalformed(problem=f"row {n}: record '{r.get('record')}' not expected")
    return out
