"""A small sample "POS": reports a day of sales to the till beside it, half through the local
API and half through the watched folder, then reads the day back and checks the till's
会销比 and guide figures against what it sent. Copy what you need into your own POS.

    python sample_pos.py --url http://127.0.0.1:8765 --token pmt_... \
        --folder D:/pos-drop --members 00010100000016,00010100000024 --guides 2001,2002

Needs only httpx (pip install httpx). Prints one JSON line with what it sent; exits 1 when
the till's figures differ from it. docs/integration.md explains every field.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

CATEGORIES = ("shoes", "socks", "bags", "coats", "shirts")
CHINA = timezone(timedelta(hours=8))


class Till:
    """The till's API: bearer token, JSON, and a polite retry on 429/503 (Retry-After)."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30,
                                 headers={"Authorization": f"Bearer {token}"})

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        for _ in range(20):
            r = self.http.request(method, path, json=body, params=params or None)
            if r.status_code in (429, 503):
                time.sleep(float(r.headers.get("Retry-After", "1")))
                continue
            if r.status_code != 200:
                raise SystemExit(f"{method} {path}: {r.status_code} {r.text}")
            return r.json()
        raise SystemExit(f"{method} {path}: the till stayed busy")


def make_sales(n: int, members: list[str], guides: list[str], rng: random.Random,
               day: str) -> list[dict[str, Any]]:
    """``n`` bills of the day: 1 to 3 lines, cash or card, a member on about half of them."""
    start = datetime.fromisoformat(f"{day}T10:00:00").replace(tzinfo=CHINA)
    sales = []
    for i in range(n):
        lines = [{"line": str(k + 1), "category": rng.choice(CATEGORIES),
                  "amount_fen": rng.randrange(1_000, 60_000)} for k in range(rng.randint(1, 3))]
        amount = sum(x["amount_fen"] for x in lines)
        sales.append({
            "txn_id": f"{day}-{i:05d}", "bill_no": f"S{day.replace('-', '')}{i:05d}",
            "time": (start + timedelta(minutes=7 * i)).isoformat(), "amount_fen": amount,
            "member": rng.choice(members) if members and rng.random() < 0.5 else None,
            "guide": rng.choice(guides) if guides and rng.random() < 0.8 else None,
            "lines": lines,
            "tenders": [{"kind": rng.choice(("cash", "card", "wechat")), "amount_fen": amount}],
        })
    return sales


def drop_file(folder: Path, name: str, sale: dict[str, Any], as_csv: bool) -> str:
    """The folder's contract: write under a temporary name, then rename (atomic)."""
    if as_csv:
        rows = ["record,txn_id,bill_no,time,amount_fen,member,guide,redeem_points,line,"
                "category,kind",
                f"sale,{sale['txn_id']},{sale['bill_no']},{sale['time']},{sale['amount_fen']},"
                f"{sale['member'] or ''},{sale['guide'] or ''},0,,,"]
        rows += [f"line,,,,{x['amount_fen']},,,,{x['line']},{x['category']}," for x in
                 sale["lines"]]
        rows += [f"tender,,,,{t['amount_fen']},,,,,,{t['kind']}" for t in sale["tenders"]]
        text, final = "\n".join(rows) + "\n", f"{name}.csv"
    else:
        text, final = json.dumps({"kind": "sale", **sale}, ensure_ascii=False), f"{name}.json"
    tmp = folder / f".{final}.tmp"
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, folder / final)
    return final


def wait_applied(folder: Path, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rejected = [n for n in names if (folder / "rejected" / n).exists()]
        if rejected:
            reason = (folder / "rejected" / f"{rejected[0]}.reason.txt").read_text("utf-8")
            raise SystemExit(f"{rejected[0]} rejected: {reason}")
        if all((folder / "done" / n).exists() for n in names):
            return
        time.sleep(0.2)
    raise SystemExit("the till did not pick up every file in time")


def tally(sales: list[dict[str, Any]]) -> dict[str, Any]:
    """What the till should show: bills, member bills, amounts, per guide."""
    guides: dict[str, Counter[str]] = {}
    for s in sales:
        if s["guide"]:
            g = guides.setdefault(s["guide"], Counter())
            g["sales"] += 1
            g["member_sales"] += s["member"] is not None
            g["amount_fen"] += s["amount_fen"]
    member = [s for s in sales if s["member"]]
    return {"sales": len(sales), "member_sales": len(member),
            "amount_fen": sum(s["amount_fen"] for s in sales),
            "member_amount_fen": sum(s["amount_fen"] for s in member),
            "guides": {k: dict(v) for k, v in sorted(guides.items())}}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="http://127.0.0.1:8765")
    p.add_argument("--token", default=os.environ.get("POS_MEMBER_TOKEN", ""))
    p.add_argument("--folder", type=Path, required=True, help="the till's watched folder")
    p.add_argument("--members", default="", help="member numbers, comma-separated")
    p.add_argument("--guides", default="", help="guides' staff numbers, comma-separated")
    p.add_argument("--sales", type=int, default=40, help="bills in the day")
    p.add_argument("--seed", type=int, default=16)
    p.add_argument("--day", default=datetime.now(CHINA).date().isoformat())
    args = p.parse_args(argv)
    till = Till(args.url, args.token)
    members = [m for m in args.members.split(",") if m]
    for m in members:  # each member as the POS would find them: by scanning their code
        till.call("POST", "/v1/members/lookup", {"code": m})
    guides = [g for g in args.guides.split(",") if g]
    sales = make_sales(args.sales, members, guides, random.Random(args.seed), args.day)
    by_api, by_folder = sales[::2], sales[1::2]
    for s in by_api:
        till.call("POST", "/v1/sales", s)
    names = [drop_file(args.folder, f"sale-{s['txn_id']}", s, as_csv=i % 2 == 1)
             for i, s in enumerate(by_folder)]
    wait_applied(args.folder, names, timeout=120)
    sent = tally(sales)
    day = till.call("GET", "/v1/day")
    got = {"sales": day["sales"], "member_sales": day["member_sales"],
           "amount_fen": day["amount_fen"], "member_amount_fen": day["member_amount_fen"],
           "guides": {g["code"]: {"sales": g["sales"], "member_sales": g["member_sales"],
                                  "amount_fen": g["amount_fen"]}
                      for g in day["guides"] if g["sales"]}}
    sent["guides"] = {k: {"sales": v.get("sales", 0), "member_sales": v.get("member_sales", 0),
                          "amount_fen": v.get("amount_fen", 0)}
                      for k, v in sent["guides"].items()}
    print(json.dumps({"sent": sent, "till": got, "ratio_permille": day["ratio_permille"]},
                     ensure_ascii=False))
    return 0 if got == sent else 1


if __name__ == "__main__":
    sys.exit(main())
