from __future__ import annotations

import re
from pathlib import Path

import pytest

from pos_member.bootstrap import bootstrap
from pos_member.clock import FakeClock
from pos_member.db.engine import open_database
from pos_member.errors import RulesInvalid
from pos_member.rules_config import Rules, default_rules_path, load_rules, parse_rules
from pos_member.services.rules_in_force import activate_rules
from tests.factories import Till

DEFAULT_TEXT = default_rules_path().read_text(encoding="utf-8")


def edited(old: str, new: str, text: str = DEFAULT_TEXT) -> str:
    """The shipped rules with one line changed; fails loudly if the line is not there."""
    assert text.count(old) == 1, old
    return text.replace(old, new)


def write_rules(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refusal(text: str) -> RulesInvalid:
    with pytest.raises(RulesInvalid) as refused:
        parse_rules(text)
    return refused.value


@pytest.fixture(scope="module")
def shipped() -> Rules:
    return load_rules(default_rules_path())


# --- the shipped defaults are the numbers of SPEC §2 ---------------------------------------


def test_shipped_rules_load_and_carry_a_version(shipped: Rules) -> None:
    assert shipped.version == "2026.1"
    assert shipped.registration.privacy_policy_version


def test_shipped_registration_defaults(shipped: Rules) -> None:
    r = shipped.registration
    assert r.welcome_points == 100
    assert (r.rate_limit_count, r.rate_limit_window_minutes) == (30, 10)
    assert r.referral_first_purchase_percent == 10


def test_shipped_tier_thresholds(shipped: Rules) -> None:
    levels = {lv.code: lv for lv in shipped.tiers.levels}
    assert [lv.code for lv in shipped.tiers.levels] == ["regular", "silver", "gold", "diamond"]
    assert (levels["regular"].annual_spend_fen, levels["regular"].growth) == (0, 0)
    assert (levels["silver"].annual_spend_fen, levels["silver"].growth) == (500_000, 1000)
    assert (levels["gold"].annual_spend_fen, levels["gold"].growth) == (2_000_000, 5000)
    assert (levels["diamond"].annual_spend_fen, levels["diamond"].growth) == (5_000_000, 10_000)
    assert shipped.tiers.evaluation_months == 3
    assert shipped.tiers.protection_days == 90


def test_shipped_topup_bonus_tiers(shipped: Rules) -> None:
    bonuses = [(b.min_fen, b.bonus_fen) for b in shipped.stored_value.topup_bonus]
    assert bonuses == [(10_000, 1000), (50_000, 6000), (100_000, 15_000)]


def test_shipped_stored_value_pin_locks_after_5_tries_for_30_minutes(shipped: Rules) -> None:
    pin = shipped.stored_value.pin
    assert (pin.length, pin.max_tries, pin.lock_minutes) == (6, 5, 30)


def test_shipped_weekend_kpi_weight_is_150_percent(shipped: Rules) -> None:
    assert shipped.kpi.weekday_weights_percent == (100, 100, 100, 100, 100, 150, 150)


def test_shipped_points_defaults(shipped: Rules) -> None:
    p = shipped.points
    assert p.points_per_yuan == 1
    assert p.redeem_points_per_yuan == 100
    assert p.redeem_cap_percent == 50
    assert p.lot_expiry_months == 24


def test_shipped_staff_login_lockout(shipped: Rules) -> None:
    assert (shipped.staff.login_max_failures, shipped.staff.login_lock_minutes) == (5, 15)


def test_rules_hold_no_float_anywhere() -> None:
    assert not re.search(r"=\s*-?\d+\.\d", DEFAULT_TEXT)


# --- a bad file is refused, naming the field -----------------------------------------------


@pytest.mark.parametrize(("old", "new", "field"), [
    ('version = "2026.1"', 'version = "2026.1\\u0000"', "version"),
    ('privacy_policy_version = "2026-01"', 'privacy_policy_version = "2026\\n01"',
     "registration.privacy_policy_version"),
])
def test_text_with_a_control_character_is_refused(old: str, new: str, field: str) -> None:
    """A NUL in the version reached HQ's event as a pydantic traceback (publish-rules)."""
    refused = refusal(edited(old, new))
    assert refused.params["field"] == field


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("welcome_points = 100", 'welcome_points = "100"', "registration.welcome_points"),
        ("welcome_points = 100", "welcome_points = 100.0", "registration.welcome_points"),
        ("welcome_points = 100", "welcome_points = true", "registration.welcome_points"),
        ('version = "2026.1"', "version = 2026", "version"),
        ("expiry_reminder_days = [30, 7]", "expiry_reminder_days = 30",
         "points.expiry_reminder_days"),
        ("expiry_reminder_days = [30, 7]", 'expiry_reminder_days = [30, "7"]',
         "points.expiry_reminder_days[1]"),
    ],
)
def test_a_value_of_the_wrong_type_is_refused(old: str, new: str, field: str) -> None:
    refused = refusal(edited(old, new))
    assert refused.params["field"] == field
    assert field in refused.text()


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("rate_limit_count = 30", "rate_limit_count = 0", "registration.rate_limit_count"),
        ("welcome_points = 100", "welcome_points = -1", "registration.welcome_points"),
        ("redeem_cap_percent = 50", "redeem_cap_percent = 101", "points.redeem_cap_percent"),
        ("member_day = 28", "member_day = 31", "points.member_day"),
        ("max_tries = 5\nlock_minutes = 30", "max_tries = 0\nlock_minutes = 30",
         "stored_value.pin.max_tries"),
        ("login_max_failures = 5", "login_max_failures = 1000", "staff.login_max_failures"),
        # no bound of its own: none past 10**12 (2**63 once reached a till's SQL)
        ("daily_earn_cap = 5000", "daily_earn_cap = 9223372036854775808",
         "points.daily_earn_cap"),
        ("expiry_reminder_days = [30, 7]", "expiry_reminder_days = [30, 10000000000000]",
         "points.expiry_reminder_days[1]"),
    ],
)
def test_a_number_out_of_range_is_refused(old: str, new: str, field: str) -> None:
    refused = refusal(edited(old, new))
    assert refused.params["field"] == field
    assert field in refused.text()


def test_an_unknown_field_is_refused() -> None:
    refused = refusal(edited("login_lock_minutes = 15", "login_lock_minutes = 15\nbogus = 1"))
    assert refused.params["field"] == "staff.bogus"
    assert refused.params["problem"] == "unknown field"


def test_an_unknown_section_is_refused() -> None:
    refused = refusal(DEFAULT_TEXT + "\n[loyalty]\nx = 1\n")
    assert refused.params["field"] == "loyalty"


def test_a_missing_field_is_refused() -> None:
    refused = refusal(edited("login_lock_minutes = 15\n", ""))
    assert refused.params["field"] == "staff.login_lock_minutes"
    assert refused.params["problem"] == "missing"


def test_a_missing_section_is_refused() -> None:
    head, _, _ = DEFAULT_TEXT.partition("[staff]")
    refused = refusal(head)
    assert refused.params["field"] == "staff"


def test_tier_thresholds_that_do_not_rise_are_refused() -> None:
    refused = refusal(edited("annual_spend_fen = 2000000", "annual_spend_fen = 400000"))
    assert refused.params["field"] == "tiers.levels[2]"


def test_tier_growth_that_does_not_rise_is_refused() -> None:
    refused = refusal(edited("growth = 10000", "growth = 5000"))
    assert refused.params["field"] == "tiers.levels[3]"


def test_a_first_tier_that_does_not_start_at_zero_is_refused() -> None:
    text = edited('name = "普通"\nannual_spend_fen = 0', 'name = "普通"\nannual_spend_fen = 1')
    assert refusal(text).params["field"] == "tiers.levels[0]"


def test_duplicate_tier_codes_are_refused() -> None:
    assert refusal(edited('code = "gold"', 'code = "silver"')).params["field"] == "tiers.levels"


def test_topup_bonus_steps_that_do_not_rise_are_refused() -> None:
    refused = refusal(edited("min_fen = 50000", "min_fen = 10000"))
    assert refused.params["field"] == "stored_value.topup_bonus[1]"


def test_weekday_weights_need_seven_values() -> None:
    text = edited("weekday_weights_percent = [100, 100, 100, 100, 100, 150, 150]",
                  "weekday_weights_percent = [100, 100, 100, 100, 100, 150]")
    assert refusal(text).params["field"] == "kpi.weekday_weights_percent"


def test_churn_must_come_after_dormancy() -> None:
    refused = refusal(edited("churned_days = 365", "churned_days = 90"))
    assert refused.params["field"] == "lifecycle.churned_days"


def test_an_empty_version_is_refused() -> None:
    assert refusal(edited('version = "2026.1"', 'version = " "')).params["field"] == "version"


def test_a_file_that_is_not_toml_is_refused() -> None:
    refused = refusal(DEFAULT_TEXT + "\nthis is = = not toml\n")
    assert refused.params["field"] == "(file)"
    assert "TOML" in refused.text()


def test_an_unreadable_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RulesInvalid) as refused:
        load_rules(tmp_path / "missing.toml")
    assert refused.value.params["field"] == "(file)"


# --- the last good version stays in force ------------------------------------------------


def version_2(tmp_path: Path) -> Path:
    return write_rules(
        tmp_path, edited('version = "2026.1"', 'version = "2026.2"',
                         edited("welcome_points = 100", "welcome_points = 200")), "v2.toml")


def test_a_valid_new_version_takes_force(till: Till, tmp_path: Path) -> None:
    till.clock.advance(minutes=1)
    in_force = activate_rules(till.app.db, till.clock, version_2(tmp_path))
    assert in_force.refused is None
    assert (in_force.rules.version, in_force.rules.registration.welcome_points) == ("2026.2", 200)


def test_a_bad_file_keeps_the_last_good_version_in_force(till: Till, tmp_path: Path) -> None:
    till.clock.advance(minutes=1)
    activate_rules(till.app.db, till.clock, version_2(tmp_path))
    bad = write_rules(tmp_path, edited("rate_limit_count = 30", "rate_limit_count = 0"))
    till.clock.advance(minutes=1)
    in_force = activate_rules(till.app.db, till.clock, bad)
    assert in_force.rules.version == "2026.2"
    assert in_force.refused is not None
    assert in_force.refused.params["field"] == "registration.rate_limit_count"


def test_a_missing_file_keeps_the_last_good_version_in_force(
    till: Till, tmp_path: Path
) -> None:
    in_force = activate_rules(till.app.db, till.clock, tmp_path / "gone.toml")
    assert in_force.rules.version == "2026.1"
    assert in_force.refused is not None


def test_a_bad_file_does_not_store_a_version(till: Till, tmp_path: Path) -> None:
    before = till.table_counts()
    activate_rules(till.app.db, till.clock, write_rules(tmp_path, "version = ["))
    assert till.table_counts() == before


def test_going_back_to_an_older_version_makes_it_the_last_good_one(
    till: Till, tmp_path: Path
) -> None:
    till.clock.advance(minutes=1)
    activate_rules(till.app.db, till.clock, version_2(tmp_path))
    till.clock.advance(minutes=1)
    activate_rules(till.app.db, till.clock, default_rules_path())  # HQ rolls back to 2026.1
    till.clock.advance(minutes=1)
    in_force = activate_rules(till.app.db, till.clock, write_rules(tmp_path, "junk = ["))
    assert in_force.rules.version == "2026.1"


def test_with_no_good_version_stored_a_bad_file_is_raised(tmp_path: Path) -> None:
    db = open_database(tmp_path / "fresh.sqlite")
    try:
        with pytest.raises(RulesInvalid) as refused:
            activate_rules(db, FakeClock(), write_rules(tmp_path, edited("member_day = 28",
                                                                         "member_day = 0")))
        assert refused.value.params["field"] == "points.member_day"
    finally:
        db.dispose()


def test_bootstrap_with_a_bad_rules_file_runs_on_the_last_good_and_says_why(
    till: Till, tmp_path: Path
) -> None:
    bad = write_rules(tmp_path, edited("welcome_points = 100", "welcome_points = -5"))
    app = bootstrap(till.path, rules_file=bad, keystore=till.keystore, clock=till.clock)
    try:
        assert app.uow.rules.version == "2026.1"
        assert app.rules_refused is not None
        assert app.rules_refused.params["field"] == "registration.welcome_points"
    finally:
        app.close()



def test_the_last_good_version_survives_a_clock_that_went_back(
    till: Till, tmp_path: Path
) -> None:
    till.clock.advance(minutes=1)
    activate_rules(till.app.db, till.clock, version_2(tmp_path))
    till.clock.advance(days=-30)  # the till's clock was wrong, then corrected backwards
    activate_rules(till.app.db, till.clock, default_rules_path())
    in_force = activate_rules(till.app.db, till.clock, write_rules(tmp_path, "junk = ["))
    assert in_force.rules.version == "2026.1"


def test_a_version_reused_for_other_rules_is_refused(till: Till, tmp_path: Path) -> None:
    same_name = write_rules(tmp_path, edited("welcome_points = 100", "welcome_points = 300"))
    before = till.table_counts()
    in_force = activate_rules(till.app.db, till.clock, same_name)
    assert in_force.refused is not None
    assert in_force.refused.params["field"] == "version"
    assert in_force.rules.registration.welcome_points == 100
    assert till.table_counts() == before


def test_a_rules_file_saved_as_utf8_with_bom_loads_as_without(tmp_path: Path,
                                                                shipped: Rules) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    assert load_rules(path) == shipped


# --- coupon templates (issue 18) ----------------------------------------------------------


def test_shipped_coupons_welcome_pack_and_the_catalogue_coupon(shipped: Rules) -> None:
    pack = shipped.coupons.pack(shipped.registration.welcome_coupon_pack)
    assert pack is not None and len(pack.templates) == 2
    [item] = [i for i in shipped.points.catalogue if i.kind == "coupon"]
    t = shipped.coupons.template(item.template)
    assert t is not None and t.amount_off_fen == 1000  # 10元代金券
    assert shipped.coupons.birthday_days_before == 7 and shipped.coupons.dormant_days == 90


@pytest.mark.parametrize(("old", "new", "field"), [
    ('amount_off_fen = 2000\nthreshold_fen = 10000',
     'amount_off_fen = 20000\nthreshold_fen = 10000', "coupons.templates[0].amount_off_fen"),
    ('percent_off = 10\n', 'percent_off = 0\n', "coupons.templates[1].percent_off"),
    ('percent_off = 10\n', 'percent_off = 100\n', "coupons.templates[1].percent_off"),
    ('kind = "percent_off"', 'kind = "half_price"', "coupons.templates[1].kind"),
    ('code = "WELCOME-90"\nname = "新人9折券"\nkind = "percent_off"\npercent_off = 10\n'
     'cap_fen = 5000\nvalid_days = 30',
     'code = "WELCOME-90"\nname = "新人9折券"\nkind = "percent_off"\npercent_off = 10\n'
     'cap_fen = 5000\nvalid_days = 30\nvalid_from = "2027-01-01"\nvalid_until = "2027-01-31"',
     "coupons.templates[1]"),  # two validities
    ('templates = ["WELCOME-20", "WELCOME-90"]', 'templates = ["WELCOME-20", "NOPE"]',
     "coupons.packs[0]"),
    ('template = "CPN-10"', 'template = "NOPE"', "points.catalogue[1].template"),
    ('birthday_template = "BIRTHDAY-30"', 'birthday_template = "NOPE"',
     "coupons.birthday_template"),
    ('with_coupons = true', 'with_coupons = 1', "coupons.templates[4].with_coupons"),
])
def test_a_bad_coupon_rule_is_refused(old: str, new: str, field: str) -> None:
    assert refusal(edited(old, new)).params["field"] == field


def test_fixed_dates_in_the_wrong_order_are_refused() -> None:
    text = edited('valid_days = 90\nwith_coupons = true',
                  'valid_from = "2027-02-01"\nvalid_until = "2027-01-01"\nwith_coupons = true')
    assert refusal(text).params["field"] == "coupons.templates[4].valid_until"
    ok = edited('valid_days = 90\nwith_coupons = true',
                'valid_from = "2027-01-01"\nvalid_until = "2027-01-31"\nwith_coupons = true')
    assert parse_rules(ok).coupons.template("CPN-10").valid_until == "2027-01-31"  # type: ignore[union-attr]
