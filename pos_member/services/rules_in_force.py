"""Which rules are in force: the candidate file if it validates, else the last good version;
on an enrolled till, the version HQ published whose start time has come (``RulesSchedule``)."""

from __future__ import annotations

import json
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_member.clock import Clock
from pos_member.db.engine import Database
from pos_member.db.models import RulesVersion, Setting
from pos_member.errors import RulesInvalid
from pos_member.rules_config import Rules, parse_rules

IN_FORCE = "rules_in_force"
PULLED = "rules_pulled"  # written by sync (services/rules_sync.py) when HQ publishes a version
SCHEDULE = "rules_schedule"  # JSON [{starts_at, position, version}]: every pulled version


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
        text = candidate.read_text(encoding="utf-8-sig")
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


def pulled_rules(db: Database, now: datetime | None = None) -> Rules | None:
    """The rules version HQ published, this till pulled, and whose start time has come (at
    ``now``; without it, the newest pulled, started or not), if any. An enrolled till runs on it
    in preference to the rules file (HQ sets the rules once for all stores, SPEC §1); the unit
    of work switches to a later version at its start time (:class:`RulesSchedule`)."""
    schedule = load_schedule(db)
    if not schedule.entries:
        return None
    if now is None:
        return max(schedule.entries, key=lambda e: e.position).rules
    return schedule.in_force(now)


@dataclass(frozen=True, slots=True)
class ScheduledRules:
    starts_at: datetime
    position: int  # the server's position of its ``rules.published``: a later one wins a tie
    rules: Rules


@dataclass(frozen=True, slots=True)
class RulesSchedule:
    """The pulled rules versions by start time, parsed once (a handful of entries): what
    :meth:`in_force` answers on every ``UnitOfWork.begin`` costs a bisect, no query."""

    entries: tuple[ScheduledRules, ...] = ()  # by (starts_at, position)
    _starts: tuple[float, ...] = ()

    @classmethod
    def of(cls, entries: list[ScheduledRules]) -> RulesSchedule:
        ordered = tuple(sorted(entries, key=lambda e: (e.starts_at, e.position)))
        return cls(ordered, tuple(e.starts_at.timestamp() for e in ordered))

    def in_force(self, now: datetime) -> Rules | None:
        """The version with the latest start at or before ``now``; None before the first."""
        i = bisect_right(self._starts, now.timestamp())
        return self.entries[i - 1].rules if i else None


def schedule_entry(starts_at: datetime, position: int, version: str) -> dict[str, Any]:
    return {"starts_at": starts_at.isoformat(), "position": position, "version": version}


def load_schedule(db: Database) -> RulesSchedule:
    """Reads ``settings.rules_schedule`` (written by sync when a version is pulled) and parses
    each version's stored source. A till that pulled rules before schedules existed has only
    ``settings.rules_pulled``: that version counts as started when it was activated."""
    with Session(db.read) as s:
        raw = s.scalar(select(Setting.value).where(Setting.key == SCHEDULE))
        items: list[dict[str, Any]] = json.loads(raw) if raw else []
        if not items:
            legacy = s.execute(
                select(RulesVersion.version, RulesVersion.activated_at)
                .join(Setting, Setting.value == RulesVersion.version)
                .where(Setting.key == PULLED)
            ).first()
            if legacy is not None:
                items = [schedule_entry(legacy.activated_at, 0, legacy.version)]
        versions = {i["version"] for i in items}
        sources = {r.version: r.source for r in s.execute(
            select(RulesVersion.version, RulesVersion.source)
            .where(RulesVersion.version.in_(versions))
        )} if versions else {}
    parsed: dict[str, Rules] = {v: parse_rules(src) for v, src in sources.items()}
    entries = []
    for i in items:
        starts = datetime.fromisoformat(i["starts_at"])
        if i["version"] in parsed:
            entries.append(ScheduledRules(
                starts if starts.tzinfo else starts.replace(tzinfo=UTC), int(i["position"]),
                parsed[i["version"]]))
    return RulesSchedule.of(entries)
