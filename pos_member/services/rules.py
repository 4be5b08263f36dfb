"""Which rules are in force: the candidate file if it validates, else the last good version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member.clock import Clock
from pos_member.db.engine import Database
from pos_member.db.models import RulesVersion, Setting
from pos_member.errors import RulesInvalid
from pos_member.rules import Rules, parse_rules

IN_FORCE = "rules_in_force"
PULLED = "rules_pulled"  # written by sync (services/apply.py) when HQ publishes a version


@dataclass(frozen=True, slots=True)
class RulesInForce:
    rules: Rules
    refused: RulesInvalid | None  # the candidate's problem, when the last good version was kept


def activate_rules(db: Database, clock: Clock, candidate: Path) -> RulesInForce:
    """Validates ``candidate``; a valid one takes force and is remembered as the last good
    version (``settings.rules_in_force``, not a timestamp, so a clock that went back cannot
    pick the wrong one). An invalid one is refused: the last good version stays in force and
    ``refused`` says why. With no good version to fall back on, the refusal is raised.

    A version string names one text for good: a file that reuses a stored version with other
    content is refused too, or two tills could run different rules under one name.
    """
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
        stored = s.get(RulesVersion, rules.version)
        if stored is not None and parse_rules(stored.source) != rules:
            refusal = RulesInvalid(
                field="version", problem=f"{rules.version} is already used for other rules"
            )
            s.rollback()
            return RulesInForce(_last_good(db, refusal), refusal)
        if stored is None:
            s.add(RulesVersion(version=rules.version, source=text, activated_at=clock.now()))
        in_force = s.get(Setting, IN_FORCE)
        if in_force is None:
            s.add(Setting(key=IN_FORCE, value=rules.version))
        elif in_force.value != rules.version:
            in_force.value = rules.version
        if s.new or s.dirty:
            s.commit()
    return RulesInForce(rules, None)


def _last_good(db: Database, refusal: RulesInvalid) -> Rules:
    with Session(db.read) as s:
        source = s.scalar(
            select(RulesVersion.source)
            .join(Setting, Setting.value == RulesVersion.version)
            .where(Setting.key == IN_FORCE)
        )
    if source is None:
        raise refusal
    return parse_rules(source)


def pulled_rules(db: Database) -> Rules | None:
    """The newest rules version HQ published and this till pulled, if any. An enrolled till
    runs on it from its next start, in preference to the rules file (HQ sets the rules once for
    all stores, SPEC §1)."""
    with Session(db.read) as s:
        source = s.scalar(
            select(RulesVersion.source)
            .join(Setting, Setting.value == RulesVersion.version)
            .where(Setting.key == PULLED)
        )
    return parse_rules(source) if source is not None else None
