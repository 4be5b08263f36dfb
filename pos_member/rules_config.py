"""The rules configuration: every default number of the specification, typed and versioned.

Rules are TOML (``resources/rules/default.toml``). Loading validates every field and refuses the
whole file with :class:`RulesInvalid` naming the first bad field, so a till never runs on half a
rules file; the caller keeps the last good version in force (see ``services.rules_in_force``).

A small loader over frozen dataclasses instead of pydantic: the core must start in well under a
second at the till and pydantic's import alone costs a good part of that; the rules only need
ints, strings, lists and nested tables.
"""

from __future__ import annotations

import tomllib
import types
import typing
import unicodedata
from dataclasses import MISSING, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, TypeVar

from pos_member.errors import RulesInvalid

T = TypeVar("T")


def _bound(lo: int | None = None, hi: int | None = None, default: int | None = None) -> Any:
    if default is None:
        return field(metadata={"min": lo, "max": hi})
    return field(default=default, metadata={"min": lo, "max": hi})


@dataclass(frozen=True)
class RegistrationRules:
    privacy_policy_version: str
    welcome_points: int = _bound(0, 1_000_000)
    referral_first_purchase_percent: int = _bound(0, 100)
    rate_limit_count: int = _bound(1, 10_000)
    rate_limit_window_minutes: int = _bound(1, 24 * 60)
    welcome_coupon_pack: str = ""  # coupon pack code issued on registration, "" = none


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    name: str
    points: int = _bound(1)
    kind: str = "gift"  # "gift" or "coupon"
    template: str = ""  # a coupon item's template in ``[[coupons.templates]]`` (issue 18)


STORED_VALUE_EARNS = ("all", "principal", "none")


@dataclass(frozen=True)
class PointsRules:
    points_per_yuan: int = _bound(0, 1000)
    member_day: int = _bound(1, 28)
    member_day_multiplier_percent: int = _bound(100, 1000)
    birthday_month_multiplier_percent: int = _bound(100, 1000)
    big_purchase_threshold_fen: int = _bound(0)
    big_purchase_bonus_points: int = _bound(0)
    lot_expiry_months: int = _bound(1, 120)
    expiry_reminder_days: tuple[int, ...]
    redeem_points_per_yuan: int = _bound(1)
    redeem_cap_percent: int = _bound(0, 100)
    daily_earn_cap: int = _bound(0)
    pending_days: int = _bound(0, 365)
    # Gifts and coupons a member can take for points (issue 5); empty = none offered.
    catalogue: tuple[CatalogueItem, ...] = field(default_factory=tuple)
    # What of a stored-value tender earns points (issue 17): "all", "principal" (its bonus
    # part, money the chain gave, earns nothing) or "none".
    stored_value_earns: str = "principal"


@dataclass(frozen=True)
class TierLevel:
    code: str
    name: str
    annual_spend_fen: int = _bound(0)
    growth: int = _bound(0)
    earn_multiplier_percent: int = _bound(100, 1000)
    member_day_discount_percent: int = _bound(1, 100)


@dataclass(frozen=True)
class TierRules:
    evaluation_months: int = _bound(1, 24)
    protection_days: int = _bound(0, 3650)
    keep_percent: int = _bound(0, 100)
    levels: tuple[TierLevel, ...]
    # Growth value (成长值, issue 5): per sale, 1 per this many fen paid, plus a visit bonus.
    growth_fen_per_point: int = field(default=1000, metadata={"min": 1, "max": None})
    growth_per_purchase: int = field(default=10, metadata={"min": 0, "max": None})


@dataclass(frozen=True)
class TopupBonus:
    min_fen: int = _bound(1)
    bonus_fen: int = _bound(0)


@dataclass(frozen=True)
class PinRules:
    length: int = _bound(4, 12)
    max_tries: int = _bound(1, 100)
    lock_minutes: int = _bound(1, 24 * 60)


@dataclass(frozen=True)
class SmsRules:
    code_length: int = _bound(4, 10)
    valid_seconds: int = _bound(30, 3600)
    max_tries: int = _bound(1, 100)
    resend_seconds: int = _bound(1, 3600)


@dataclass(frozen=True)
class TotpRules:
    step_seconds: int = _bound(10, 300)
    window_steps: int = _bound(0, 5)


@dataclass(frozen=True)
class StoredValueRules:
    first_topup_bonus_fen: int = _bound(0)
    birthday_month_bonus_fen: int = _bound(0)
    manager_approval_fen: int = _bound(1)
    offline_daily_cap_fen: int = _bound(0)
    topup_bonus: tuple[TopupBonus, ...]
    pin: PinRules
    sms: SmsRules
    totp: TotpRules


@dataclass(frozen=True)
class KpiRules:
    weekday_weights_percent: tuple[int, ...]
    member_sales_ratio_target_percent: int = _bound(0, 100)


@dataclass(frozen=True)
class TagRules:
    high_ticket_fen: int = _bound(1)
    dormant_days: int = _bound(1)
    frequent_count: int = _bound(1)
    frequent_window_days: int = _bound(1)


@dataclass(frozen=True)
class LifecycleRules:
    dormant_days: int = _bound(1)
    churned_days: int = _bound(1)


@dataclass(frozen=True)
class StaffRules:
    login_max_failures: int = _bound(1, 100)
    login_lock_minutes: int = _bound(1, 24 * 60)


COUPON_KINDS = ("amount_off", "percent_off", "gift")


@dataclass(frozen=True)
class CouponTemplate:
    """One kind of coupon HQ offers (issue 18): amount off a bill of at least ``threshold_fen``
    (满 300 减 50), percent off (capped at ``cap_fen``, 0 = no cap), or a gift item; valid
    ``valid_days`` from issue or between two fixed dates (``YYYY-MM-DD``, the store's days,
    both included); for the tiers and store numbers listed (none listed = all); whether it
    combines with points redeemed on the bill and with other coupons."""

    code: str
    name: str
    kind: str
    amount_off_fen: int = _bound(0, default=0)
    threshold_fen: int = _bound(0, default=0)
    percent_off: int = _bound(0, 99, default=0)
    cap_fen: int = _bound(0, default=0)
    gift_item: str = ""
    valid_days: int = _bound(0, 3650, default=0)
    valid_from: str = ""
    valid_until: str = ""
    tiers: tuple[str, ...] = field(default_factory=tuple)
    stores: tuple[int, ...] = field(default_factory=tuple)
    with_points: bool = True
    with_coupons: bool = False


@dataclass(frozen=True)
class CouponPack:
    code: str
    templates: tuple[str, ...]


@dataclass(frozen=True)
class CouponRules:
    """Templates, packs (the welcome pack names one) and the triggers' settings."""

    templates: tuple[CouponTemplate, ...] = field(default_factory=tuple)
    packs: tuple[CouponPack, ...] = field(default_factory=tuple)
    birthday_template: str = ""  # "" = no birthday coupon
    birthday_days_before: int = _bound(0, 60, default=7)
    winback_template: str = ""  # "" = no win-back offer
    dormant_days: int = _bound(1, 3650, default=90)
    marketing_daily_cap: int = _bound(0, 100, default=2)  # marketing messages a day per member

    def template(self, code: str) -> CouponTemplate | None:
        return next((t for t in self.templates if t.code == code), None)

    def pack(self, code: str) -> CouponPack | None:
        return next((p for p in self.packs if p.code == code), None)


NO_COUPONS = CouponRules()


@dataclass(frozen=True)
class Rules:
    version: str
    registration: RegistrationRules
    points: PointsRules
    tiers: TierRules
    stored_value: StoredValueRules
    kpi: KpiRules
    tags: TagRules
    lifecycle: LifecycleRules
    staff: StaffRules
    coupons: CouponRules = NO_COUPONS


def parse_rules(text: str) -> Rules:
    """Parses and validates TOML text. Raises :class:`RulesInvalid` naming the bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise RulesInvalid(field="(file)", problem=f"not valid TOML: {e}") from None
    rules = _build(Rules, data, "")
    _check(rules)
    return rules


def load_rules(path: Path) -> Rules:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise RulesInvalid(field="(file)", problem=f"cannot read {path}: {e}") from None
    return parse_rules(text)


def default_rules_path() -> Path:
    from pos_member.resources import resource_path

    return resource_path("rules", "default.toml")


def _build(cls: type[T], data: Any, path: str) -> T:
    if not isinstance(data, dict):
        raise RulesInvalid(field=path or "(file)", problem="must be a table")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise RulesInvalid(field=_join(path, unknown[0]), problem="unknown field")
    values: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        name = _join(path, f.name)
        if f.name not in data:
            if f.default is MISSING and f.default_factory is MISSING:
                raise RulesInvalid(field=name, problem="missing")
            continue
        values[f.name] = _value(hints[f.name], data[f.name], name, f.metadata)
    return cls(**values)


# A number with no bound of its own is at most this (10¹² fen is ten billion yuan): a rule no
# database integer holds (2**63) once reached a till's SQL as an OverflowError.
MAX_RULE_NUMBER = 10**12


def _value(tp: Any, raw: Any, name: str, meta: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin is tuple:
        (item_tp, _) = typing.get_args(tp)
        if not isinstance(raw, list):
            raise RulesInvalid(field=name, problem="must be a list")
        return tuple(_value(item_tp, item, f"{name}[{i}]", {}) for i, item in enumerate(raw))
    if is_dataclass(tp):
        return _build(tp, raw, name)
    if tp is int:
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise RulesInvalid(field=name, problem=f"must be a whole number, got {raw!r}")
        lo, hi = meta.get("min"), meta.get("max")
        hi = MAX_RULE_NUMBER if hi is None else hi  # every number has a most
        if lo is not None and raw < lo:
            raise RulesInvalid(field=name, problem=f"must be at least {lo}, got {raw}")
        if raw > hi:
            raise RulesInvalid(field=name, problem=f"must be at most {hi}, got {raw}")
        return raw
    if tp is bool:
        if not isinstance(raw, bool):
            raise RulesInvalid(field=name, problem=f"must be true or false, got {raw!r}")
        return raw
    if tp is str:
        if not isinstance(raw, str):
            raise RulesInvalid(field=name, problem=f"must be text, got {raw!r}")
        if any(unicodedata.category(c) == "Cc" for c in raw):  # NUL, newline ...: no rule's
            raise RulesInvalid(field=name, problem="must not hold a control character")
        return raw
    if isinstance(tp, types.UnionType):  # pragma: no cover - no optional fields yet
        raise TypeError(tp)
    raise TypeError(f"unsupported rules type {tp!r} for {name}")


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _check(r: Rules) -> None:
    """Rules between fields that types and bounds alone cannot say."""
    if not r.version.strip():
        raise RulesInvalid(field="version", problem="must not be empty")
    if not r.registration.privacy_policy_version.strip():
        raise RulesInvalid(field="registration.privacy_policy_version", problem="must not be empty")
    if r.points.stored_value_earns not in STORED_VALUE_EARNS:
        raise RulesInvalid(field="points.stored_value_earns",
                           problem=f"must be one of {', '.join(STORED_VALUE_EARNS)}")
    levels = r.tiers.levels
    if not levels:
        raise RulesInvalid(field="tiers.levels", problem="at least one tier is needed")
    if levels[0].annual_spend_fen != 0 or levels[0].growth != 0:
        raise RulesInvalid(field="tiers.levels[0]", problem="the first tier must start at 0")
    for i in range(1, len(levels)):
        a, b = levels[i - 1], levels[i]
        if not (b.annual_spend_fen > a.annual_spend_fen and b.growth > a.growth):
            raise RulesInvalid(
                field=f"tiers.levels[{i}]", problem="thresholds must rise from tier to tier"
            )
    if len({lv.code for lv in levels}) != len(levels):
        raise RulesInvalid(field="tiers.levels", problem="tier codes must be unique")
    bonuses = r.stored_value.topup_bonus
    for i in range(1, len(bonuses)):
        if bonuses[i].min_fen <= bonuses[i - 1].min_fen:
            raise RulesInvalid(
                field=f"stored_value.topup_bonus[{i}]", problem="min_fen must rise step by step"
            )
    weights = r.kpi.weekday_weights_percent
    if len(weights) != 7 or any(w < 0 for w in weights) or sum(weights) == 0:
        raise RulesInvalid(
            field="kpi.weekday_weights_percent",
            problem="seven non-negative weights, Monday to Sunday, not all zero",
        )
    if any(d <= 0 for d in r.points.expiry_reminder_days):
        raise RulesInvalid(field="points.expiry_reminder_days", problem="days must be positive")
    items = r.points.catalogue
    if len({i.code for i in items}) != len(items):
        raise RulesInvalid(field="points.catalogue", problem="item codes must be unique")
    for i, item in enumerate(items):
        if item.kind not in ("gift", "coupon") or not item.code.strip():
            raise RulesInvalid(field=f"points.catalogue[{i}]",
                               problem='needs a code and kind "gift" or "coupon"')
        if item.kind == "coupon" and r.coupons.template(item.template) is None:
            raise RulesInvalid(field=f"points.catalogue[{i}].template",
                               problem="must name a coupon template")
    _check_coupons(r)
    if r.lifecycle.churned_days <= r.lifecycle.dormant_days:
        raise RulesInvalid(field="lifecycle.churned_days", problem="must exceed dormant_days")


def _check_coupons(r: Rules) -> None:
    """A template's terms must say one thing: its kind's figures, one validity."""
    from datetime import date

    c = r.coupons
    if len({t.code for t in c.templates}) != len(c.templates):
        raise RulesInvalid(field="coupons.templates", problem="template codes must be unique")
    tiers = {lv.code for lv in r.tiers.levels}
    for i, t in enumerate(c.templates):
        name = f"coupons.templates[{i}]"
        if not t.code.strip() or not t.name.strip():
            raise RulesInvalid(field=name, problem="needs a code and a name")
        if t.kind not in COUPON_KINDS:
            raise RulesInvalid(field=f"{name}.kind", problem=f"one of {', '.join(COUPON_KINDS)}")
        if t.kind == "amount_off" and not (t.amount_off_fen > 0
                                           and (t.threshold_fen == 0
                                                or t.amount_off_fen < t.threshold_fen)):
            raise RulesInvalid(field=f"{name}.amount_off_fen",
                               problem="must be above 0 and below the threshold")
        if t.kind == "percent_off" and t.percent_off == 0:
            raise RulesInvalid(field=f"{name}.percent_off", problem="must be 1 to 99")
        if t.kind == "gift" and not t.gift_item.strip():
            raise RulesInvalid(field=f"{name}.gift_item", problem="a gift coupon names its item")
        fixed = bool(t.valid_from or t.valid_until)
        if fixed == bool(t.valid_days):
            raise RulesInvalid(field=name,
                               problem="give valid_days or valid_from and valid_until, not both")
        if fixed:
            try:
                start, end = date.fromisoformat(t.valid_from), date.fromisoformat(t.valid_until)
            except ValueError:
                raise RulesInvalid(field=f"{name}.valid_from",
                                   problem="dates are YYYY-MM-DD") from None
            if end < start:
                raise RulesInvalid(field=f"{name}.valid_until", problem="before valid_from")
        unknown = [x for x in t.tiers if x not in tiers]
        if unknown:
            raise RulesInvalid(field=f"{name}.tiers", problem=f"no tier {unknown[0]}")
    for i, p in enumerate(c.packs):
        missing = [x for x in p.templates if c.template(x) is None]
        if not p.code.strip() or not p.templates or missing:
            raise RulesInvalid(field=f"coupons.packs[{i}]",
                               problem="a code and known template codes")
    pack = r.registration.welcome_coupon_pack
    if pack and c.pack(pack) is None:
        raise RulesInvalid(field="registration.welcome_coupon_pack", problem="no such pack")
    for key in ("birthday_template", "winback_template"):
        code = getattr(c, key)
        if code and c.template(code) is None:
            raise RulesInvalid(field=f"coupons.{key}", problem="no such template")
