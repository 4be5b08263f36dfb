"""Which rules are in force: the candidate file if it validates, else the last good version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member.clock import Clock
from pos_member.db.engine import Database
from pos_member.db.models import RulesVersion
from pos_member.errors import RulesInvalid
from pos_member.rules import Rules, parse_rules


@dataclass(frozen=True, slots=True)
class RulesInForce:
    rules: Rules
    refused: RulesInvalid | None  # the candidate's problem, when the last good version was kept


def activate_rules(db: Database, clock: Clock, candidate: Path) -> RulesInForce:
    """Validates ``candidate``; a new valid version is stored and takes force. An invalid one
    is refused: the newest stored version stays, and ``refused`` says why. With no stored
    version to fall back on, the refusal is raised."""
    try:
        text = candidate.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        refusal = RulesInvalid(field="(file)", problem=f"cannot read {candidate}: {e}")
        return RulesInForce(_last_good(db, refusal), refusal)
    try:
        rules = parse_rules(text)
    except RulesInvalid as refusal:
        return RulesInForce(_last_good(db, refusal), refusal)
    with Session(db.write) as s:
        if _newest_version(s) != rules.version:
            stored = s.get(RulesVersion, rules.version)
            if stored is None:
                s.add(RulesVersion(version=rules.version, source=text, activated_at=clock.now()))
            else:  # back to an older version: it is the last good one from now on
                stored.activated_at = clock.now()
            s.commit()
    return RulesInForce(rules, None)


def _newest_version(s: Session) -> str | None:
    return s.scalar(
        select(RulesVersion.version).order_by(RulesVersion.activated_at.desc()).limit(1)
    )


def _last_good(db: Database, refusal: RulesInvalid) -> Rules:
    with Session(db.read) as s:
        source = s.scalar(
            select(RulesVersion.source).order_by(RulesVersion.activated_at.desc()).limit(1)
        )
    if source is None:
        raise refusal
    return parse_rules(source)
