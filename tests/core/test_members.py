from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from pos_member.db.models import AuditEntry, Event, Flag, Member
from pos_member.errors import (
    ConsentRequired,
    DuplicatePhone,
    GuideNotFound,
    InvalidInput,
    InvalidPhone,
    MalformedCode,
    MemberNotFound,
    PermissionDenied,
    ReferrerNotFound,
    RegistrationRateLimited,
)
from pos_member.member_code import make_member_no
from pos_member.services.member_cards import (
    Channel,
    Gender,
    find_member,
    get_member,
    mask_name,
    reveal_personal_data,
)
from pos_member.services.members import BURST_FLAG, PROFILE_UPDATED, REGISTERED, update_profile
from tests.factories import Till

UNKNOWN_NO = make_member_no(store_no=1, device_no=1, seq=9_999_999)


def member_row(till: Till, member_id: str) -> Member:
    with till.uow.read() as s:
        m = s.get(Member, member_id)
        assert m is not None
        s.expunge(m)  # keep its loaded values after the read session ends
        return m


def count_events(till: Till, type_: str) -> int:
    with till.uow.read() as s:
        return s.scalar(select(func.count()).select_from(Event).where(Event.type == type_)) or 0


def count_flags(till: Till) -> int:
    with till.uow.read() as s:
        return s.scalar(
            select(func.count()).select_from(Flag).where(Flag.kind == BURST_FLAG)) or 0


def audit_for(till: Till, action: str) -> list[AuditEntry]:
    with till.uow.read() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)
                              .order_by(AuditEntry.id)))
        s.expunge_all()
        return rows


def one_event(till: Till, type_: str) -> Event:
    with till.uow.read() as s:
        ev = s.scalars(select(Event).where(Event.type == type_)).one()
        s.expunge(ev)
        return ev


def test_registration_needs_only_a_phone_and_consent(till: Till) -> None:
    card = till.register("+86 138-1234-5678")
    assert card.phone_masked == "138****5678"
    assert find_member(till.uow, clerk=till.cashier, code=card.qr_payload).id == card.id


def test_duplicate_phone_is_refused_and_names_the_existing_member(till: Till) -> None:
    first = till.register("13812345678")
    before = till.table_counts()
    with pytest.raises(DuplicatePhone) as refused:
        till.register("138 1234 5678")
    assert refused.value.member_id == first.id
    assert till.table_counts() == before


@pytest.mark.parametrize("phone", ["12812345678", "1381234567", "abc", ""])
def test_invalid_phone_changes_nothing(till: Till, phone: str) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidPhone):
        till.register(phone)
    assert till.table_counts() == before


def test_missing_consent_changes_nothing(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(ConsentRequired):
        till.register(privacy_consent=False)
    assert till.table_counts() == before


# --- what a registration writes ----------------------------------------------------------


def test_registration_writes_one_member_one_event_and_one_audit_entry(till: Till) -> None:
    before = till.table_counts()
    till.register()
    after = till.table_counts()
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    # ... and, in the same transaction, the welcome points: their event, entry, lot, account;
    # the welcome coupon pack's two coupons (an event, an audit row, a ledger entry each) and
    # one message telling the member of them; the welcome points start the member's kept
    # running sums (programme health, till migration 0026).
    assert changed == {"members": 1, "member_directory": 1, "events": 4, "audit_log": 3,
                       "points_entries": 1, "points_lots": 1, "points_accounts": 1,
                       "coupons": 2, "coupon_entries": 2, "notification_outbox": 1,
                       "member_ledger_sums": 1}


def test_registration_emits_a_member_registered_event_for_the_member(till: Till) -> None:
    card = till.register()
    ev = one_event(till, REGISTERED)
    assert ev.entity_id == card.id
    assert ev.payload["member_no"] == card.member_no
    assert ev.clerk_id == till.cashier.staff_id


def test_registration_audit_entry_names_who_where_and_the_masked_member(till: Till) -> None:
    card = till.register("13812345678", name="王小明")
    (entry,) = audit_for(till, REGISTERED)
    assert (entry.staff_id, entry.store_id, entry.device_id) == (
        till.cashier.staff_id, till.cashier.store_id, till.cashier.device_id)
    assert entry.entity_id == card.id
    assert entry.after is not None
    assert (entry.after["phone"], entry.after["name"]) == ("138****5678", "王*明")
    assert entry.at == till.clock.now()


def test_registration_stores_the_consent_time_and_policy_version(till: Till) -> None:
    card = till.register()
    m = member_row(till, card.id)
    assert m.privacy_consent_at == till.clock.now()
    assert m.privacy_policy_version == till.uow.rules.registration.privacy_policy_version


def test_marketing_consent_is_off_unless_given(till: Till) -> None:
    card = till.register()
    m = member_row(till, card.id)
    assert (m.marketing_consent, m.marketing_consent_at) == (False, None)
    assert card.marketing_consent is False


def test_marketing_consent_is_recorded_separately_with_its_time(till: Till) -> None:
    card = till.register(marketing_consent=True)
    m = member_row(till, card.id)
    assert (m.marketing_consent, m.marketing_consent_at) == (True, till.clock.now())


def test_marketing_consent_alone_does_not_register(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(ConsentRequired):
        till.register(privacy_consent=False, marketing_consent=True)
    assert till.table_counts() == before


def test_member_numbers_carry_the_store_and_device_and_count_up(till: Till) -> None:
    first, second = till.register(), till.register()
    assert first.member_no[:6] == second.member_no[:6] == "000101"
    assert int(second.member_no[6:13]) == int(first.member_no[6:13]) + 1
    assert first.qr_payload == f"PM1:{first.member_no}"


def test_optional_profile_fields_are_stored(till: Till) -> None:
    card = till.register(name="李娜", gender=Gender.FEMALE, birthday=date(1990, 5, 17),
                         tags=("VIP", "咖啡", "VIP"))
    assert (card.gender, card.birthday_month, card.tags) == (Gender.FEMALE, 5, ("VIP", "咖啡"))


def test_a_birthday_in_the_future_is_refused_and_nothing_changes(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        till.register(birthday=till.clock.now().date() + timedelta(days=1))
    assert till.table_counts() == before


def test_a_name_over_30_characters_is_refused(till: Till) -> None:
    with pytest.raises(InvalidInput):
        till.register(name="王" * 31)


# --- source channel, guide, referrer -----------------------------------------------------


def test_the_source_channel_is_recorded(till: Till) -> None:
    card = till.register(channel=Channel.CAMPAIGN)
    assert card.channel is Channel.CAMPAIGN
    assert member_row(till, card.id).source_channel == "campaign"


def test_a_channel_given_as_plain_text_is_accepted(till: Till) -> None:
    assert till.register(channel="campaign").channel is Channel.CAMPAIGN


def test_an_unknown_channel_is_refused_and_nothing_changes(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        till.register(channel="tv-advert")
    assert till.table_counts() == before


def test_an_unknown_gender_is_refused_and_nothing_changes(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        till.register(gender="X")
    assert till.table_counts() == before


def test_the_recruiting_guide_is_recorded(till: Till) -> None:
    card = till.register(channel=Channel.GUIDE, guide_id=till.guide.staff_id)
    assert card.guide_name == till.guide.name
    assert member_row(till, card.id).guide_id == till.guide.staff_id


def test_a_guide_channel_without_a_guide_is_refused(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        till.register(channel=Channel.GUIDE)
    assert till.table_counts() == before


def test_an_unknown_guide_is_refused_and_nothing_changes(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(GuideNotFound):
        till.register(channel=Channel.GUIDE, guide_id="0190aaaa-0000-7000-8000-000000000000")
    assert till.table_counts() == before


def test_the_referrer_is_found_by_member_number(till: Till) -> None:
    referrer = till.register()
    card = till.register(channel=Channel.REFERRAL, referrer=referrer.member_no)
    assert card.referrer_no == referrer.member_no
    assert member_row(till, card.id).referrer_id == referrer.id


def test_the_referrer_is_found_by_phone(till: Till) -> None:
    referrer = till.register("13900001111")
    card = till.register(channel=Channel.REFERRAL, referrer="+86 139-0000-1111")
    assert card.referrer_no == referrer.member_no


def test_the_referrer_is_found_by_qr_payload(till: Till) -> None:
    referrer = till.register()
    assert till.register(referrer=referrer.qr_payload).referrer_no == referrer.member_no


@pytest.mark.parametrize("referrer", ["13900009999", UNKNOWN_NO, "not a member"])
def test_an_unknown_referrer_is_refused_and_nothing_changes(till: Till, referrer: str) -> None:
    till.register()
    before = till.table_counts()
    with pytest.raises(ReferrerNotFound):
        till.register(channel=Channel.REFERRAL, referrer=referrer)
    assert till.table_counts() == before


def test_a_referral_channel_without_a_referrer_is_refused(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(InvalidInput):
        till.register(channel=Channel.REFERRAL)
    assert till.table_counts() == before


# --- rate limit --------------------------------------------------------------------------


def register_burst(till: Till, n: int) -> None:
    for _ in range(n):
        till.register()
        till.clock.advance(seconds=10)


def test_30_registrations_in_10_minutes_pass(till: Till) -> None:
    register_burst(till, 30)
    assert till.table_counts()["members"] == 30
    assert count_flags(till) == 0


def test_the_31st_registration_in_10_minutes_is_refused_and_adds_no_member(till: Till) -> None:
    register_burst(till, 30)
    with pytest.raises(RegistrationRateLimited):
        till.register()
    assert till.table_counts()["members"] == 30


def test_a_burst_raises_exactly_one_flag_for_the_manager(till: Till) -> None:
    register_burst(till, 30)
    for _ in range(2):
        with pytest.raises(RegistrationRateLimited):
            till.register()
    assert count_flags(till) == 1
    assert count_events(till, "flag.raised") == 1


def test_a_refused_burst_registration_writes_only_the_flag(till: Till) -> None:
    register_burst(till, 30)
    with pytest.raises(RegistrationRateLimited):
        till.register()
    before = till.table_counts()
    with pytest.raises(RegistrationRateLimited):
        till.register()
    assert till.table_counts() == before


def test_registration_works_again_after_the_window_passes(till: Till) -> None:
    register_burst(till, 30)
    with pytest.raises(RegistrationRateLimited):
        till.register()
    till.clock.advance(minutes=till.uow.rules.registration.rate_limit_window_minutes)
    till.register()
    assert till.table_counts()["members"] == 31


def test_the_rate_limit_message_gives_the_limit_and_window(till: Till) -> None:
    register_burst(till, 30)
    with pytest.raises(RegistrationRateLimited) as refused:
        till.register()
    assert refused.value.params == {"limit": 30, "minutes": 10}


# --- finding members ---------------------------------------------------------------------


def test_find_member_by_qr_payload(till: Till) -> None:
    card = till.register()
    assert find_member(till.uow, clerk=till.cashier, code=card.qr_payload).id == card.id


def test_find_member_by_member_number(till: Till) -> None:
    card = till.register()
    assert find_member(till.uow, clerk=till.cashier, code=card.member_no).id == card.id


@pytest.mark.parametrize("typed", ["13812345678", "+86 138 1234 5678", "１３８１２３４５６７８"])
def test_find_member_by_phone(till: Till, typed: str) -> None:
    card = till.register("13812345678")
    assert find_member(till.uow, clerk=till.cashier, code=typed).id == card.id


@pytest.mark.parametrize("code", ["13900009999", UNKNOWN_NO, f"PM1:{UNKNOWN_NO}"])
def test_find_member_raises_member_not_found_for_an_unknown_code(till: Till, code: str) -> None:
    till.register()
    with pytest.raises(MemberNotFound):
        find_member(till.uow, clerk=till.cashier, code=code)


def test_member_not_found_shows_a_searched_phone_masked(till: Till) -> None:
    with pytest.raises(MemberNotFound) as refused:
        find_member(till.uow, clerk=till.cashier, code="13900009999")
    assert "13900009999" not in refused.value.text()
    assert "139****9999" in refused.value.text()


@pytest.mark.parametrize("code", [f"PM2:{UNKNOWN_NO}", "hello", "123"])
def test_find_member_refuses_a_malformed_code(till: Till, code: str) -> None:
    with pytest.raises(MalformedCode):
        find_member(till.uow, clerk=till.cashier, code=code)


def test_get_member_raises_member_not_found_for_an_unknown_id(till: Till) -> None:
    with pytest.raises(MemberNotFound):
        get_member(till.uow, clerk=till.cashier, member_id="nobody")


# --- the card masks personal data --------------------------------------------------------


def test_the_card_masks_phone_and_name(till: Till) -> None:
    card = till.register("13812345678", name="王小明")
    assert (card.phone_masked, card.name_masked) == ("138****5678", "王*明")
    shown = find_member(till.uow, clerk=till.cashier, code=card.member_no)
    assert (shown.phone_masked, shown.name_masked) == ("138****5678", "王*明")
    assert "13812345678" not in repr(shown) and "王小明" not in repr(shown)


@pytest.mark.parametrize(
    ("name", "masked"), [("王小明", "王*明"), ("王明", "王*"), ("欧阳娜娜", "欧***"),
                         ("Alice", "A****"), ("A", "A"), (None, None), ("", None)],
)
def test_mask_name(name: str | None, masked: str | None) -> None:
    assert mask_name(name) == masked


# --- profile edits -----------------------------------------------------------------------


def test_update_profile_writes_one_event_and_one_audit_entry(till: Till) -> None:
    card = till.register()
    before = till.table_counts()
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name="王小明",
                   gender=Gender.MALE)
    after = till.table_counts()
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    # Plus the two fields' last-writer-wins versions, which sync compares against.
    assert changed == {"events": 1, "audit_log": 1, "member_field_hlc": 2}
    assert count_events(till, PROFILE_UPDATED) == 1


def test_update_profile_audits_masked_before_and_after(till: Till) -> None:
    card = till.register(name="王小明")
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name="李四光")
    (entry,) = audit_for(till, PROFILE_UPDATED)
    assert (entry.before, entry.after) == ({"name": "王*明"}, {"name": "李*光"})


def test_update_profile_changes_what_the_card_shows(till: Till) -> None:
    card = till.register()
    updated = update_profile(till.uow, clerk=till.cashier, member_id=card.id,
                             tags=("茶", "VIP"), birthday=date(1985, 12, 1))
    assert (updated.tags, updated.birthday_month) == (("茶", "VIP"), 12)


def test_update_profile_accepts_a_gender_given_as_plain_text(till: Till) -> None:
    card = till.register()
    updated = update_profile(till.uow, clerk=till.cashier, member_id=card.id, gender="F")
    assert updated.gender is Gender.FEMALE


def test_update_profile_can_clear_a_field(till: Till) -> None:
    card = till.register(name="王小明", gender=Gender.MALE)
    updated = update_profile(till.uow, clerk=till.cashier, member_id=card.id, name=None,
                             gender=None)
    assert (updated.name_masked, updated.gender) == (None, None)


def test_update_profile_with_nothing_changed_writes_nothing(till: Till) -> None:
    card = till.register(name="王小明", gender=Gender.MALE)
    before = till.table_counts()
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name="王小明",
                   gender=Gender.MALE, marketing_consent=False)
    assert till.table_counts() == before


def test_update_profile_marketing_consent_records_its_time(till: Till) -> None:
    card = till.register()
    till.clock.advance(days=3)
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, marketing_consent=True)
    m = member_row(till, card.id)
    assert (m.marketing_consent, m.marketing_consent_at) == (True, till.clock.now())


def test_update_profile_of_an_unknown_member_is_refused(till: Till) -> None:
    before = till.table_counts()
    with pytest.raises(MemberNotFound):
        update_profile(till.uow, clerk=till.cashier, member_id="nobody", name="王")
    assert till.table_counts() == before


def test_update_profile_event_holds_the_name_only_encrypted(till: Till) -> None:
    card = till.register()
    update_profile(till.uow, clerk=till.cashier, member_id=card.id, name="王小明")
    ev = one_event(till, PROFILE_UPDATED)
    assert "王小明" not in str(ev.payload)
    assert ev.payload["fields"]["name_enc"]


# --- revealing personal data -------------------------------------------------------------


def test_a_cashier_may_not_reveal_personal_data_and_nothing_changes(till: Till) -> None:
    card = till.register()
    before = till.table_counts()
    with pytest.raises(PermissionDenied):
        reveal_personal_data(till.uow, clerk=till.cashier, member_id=card.id)
    assert till.table_counts() == before


def test_a_guide_may_not_reveal_personal_data(till: Till) -> None:
    card = till.register()
    with pytest.raises(PermissionDenied):
        reveal_personal_data(till.uow, clerk=till.guide, member_id=card.id)


def test_a_manager_reveals_personal_data(till: Till) -> None:
    card = till.register("13812345678", name="王小明", birthday=date(1990, 5, 17))
    data = reveal_personal_data(till.uow, clerk=till.manager, member_id=card.id)
    assert (data.phone, data.name, data.birthday) == ("13812345678", "王小明", date(1990, 5, 17))


def test_revealing_personal_data_is_audited(till: Till) -> None:
    card = till.register()
    reveal_personal_data(till.uow, clerk=till.manager, member_id=card.id)
    (entry,) = audit_for(till, "member.personal_data_revealed")
    assert (entry.staff_id, entry.entity_id) == (till.manager.staff_id, card.id)
    assert "phone" in (entry.after or {})["fields"]
