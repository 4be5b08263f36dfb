"""What the member card shows, and how the forms' text becomes core arguments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from PySide6.QtWidgets import QApplication

from pos_member.errors import InvalidInput
from pos_member.services.member_cards import Channel, Gender, MemberCard
from tests.factories import Till
from ui.i18n import install_language
from ui.viewmodels import card_view, parse_birthday, parse_tags


@pytest.fixture
def english(qapp: QApplication) -> Iterator[None]:
    """The English source strings, so the rows read as the code writes them."""
    install_language("en")
    yield
    install_language("zh_CN")


@pytest.fixture
def plain(till: Till) -> MemberCard:
    return till.register("13812345678")


@pytest.fixture
def full(till: Till) -> MemberCard:
    return till.register("13812345678", name="王小明", gender=Gender.MALE,
                         birthday=date(1990, 5, 17), tags=("咖啡", "VIP"),
                         channel=Channel.GUIDE, guide_id=till.guide.staff_id,
                         marketing_consent=True)


# --- the card -----------------------------------------------------------------------------------


@pytest.mark.usefixtures("english")
def test_the_card_rows_of_a_member_with_a_full_profile(full: MemberCard, till: Till) -> None:
    rows = dict(card_view(full).rows)
    assert rows["Phone"] == "138****5678"
    assert rows["Gender"] == "Male"
    assert rows["Birthday month"] == "Month 5"
    assert rows["Source"] == "Store guide"
    assert rows["Guide"] == till.guide.name
    assert rows["Tags"] == "咖啡、VIP"
    assert rows["Marketing"] == "Agreed"


@pytest.mark.usefixtures("english")
def test_unknown_fields_show_a_dash(plain: MemberCard) -> None:
    rows = dict(card_view(plain).rows)
    assert [rows[k] for k in ("Gender", "Birthday month", "Guide", "Referred by", "Tags")] == [
        "—"] * 5
    assert rows["Marketing"] == "Not agreed"


@pytest.mark.usefixtures("english")
def test_the_card_never_holds_the_full_phone_or_name(full: MemberCard) -> None:
    view = card_view(full)
    text = " ".join([view.title, view.member_no, *(v for _, v in view.rows)])
    assert "13812345678" not in text
    assert "王小明" not in text
    assert "王*明" in view.title


@pytest.mark.usefixtures("english")
def test_the_title_names_the_tier_and_a_member_without_a_name(plain: MemberCard) -> None:
    assert card_view(plain).title == "(no name) · Regular"


@pytest.mark.usefixtures("english")
def test_points_balance_and_coupons_have_their_places_on_the_card(plain: MemberCard) -> None:
    assert card_view(plain).tiles == [("Points", "—"), ("Stored value", "—"), ("Coupons", "—")]


def test_the_card_speaks_chinese(zh_app: QApplication, full: MemberCard) -> None:
    rows = dict(card_view(full).rows)
    assert rows["手机号"] == "138****5678"
    assert rows["性别"] == "男"
    assert rows["生日月份"] == "5月"
    assert rows["来源渠道"] == "门店导购"


# --- birthdays ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["1990-03-14", "19900314", "1990/03/14", " 1990-03-14 "])
def test_parse_birthday_accepts_the_usual_forms(text: str) -> None:
    assert parse_birthday(text) == date(1990, 3, 14)


@pytest.mark.parametrize("text", ["", "   "])
def test_an_empty_birthday_is_none(text: str) -> None:
    assert parse_birthday(text) is None


@pytest.mark.parametrize("text", ["1990-13-40", "1990-02-30", "hello", "14.03.1990", "1990314",
                                  "90-03-14", "1990-3"])
def test_parse_birthday_refuses_anything_else(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_birthday(text)


# --- tags ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("咖啡，亲子", ("咖啡", "亲子")),
        ("咖啡、亲子", ("咖啡", "亲子")),
        ("coffee,kids", ("coffee", "kids")),
        ("咖啡 亲子", ("咖啡", "亲子")),
        ("咖啡；亲子;VIP", ("咖啡", "亲子", "VIP")),
        (" 咖啡 ，， 、亲子 ", ("咖啡", "亲子")),
    ],
)
def test_parse_tags_splits_on_commas_enumeration_commas_and_spaces(text: str,
                                                                   tags: tuple[str, ...]) -> None:
    assert parse_tags(text) == tags


def test_no_tags_is_an_empty_tuple() -> None:
    assert parse_tags("  ") == ()


def test_a_member_of_another_store_shows_tier_and_home_store(
        zh_app: QApplication, plain: MemberCard) -> None:
    """Known from the chain's member directory only (issue 14): no profile to show."""
    from dataclasses import replace

    remote = replace(plain, name_masked=None, gender=None, birthday_month=None, channel=None,
                     registered_at=None, store_name="南京西路店", tier="gold", remote=True,
                     phone_masked="")
    view = card_view(remote)
    assert view.title == "其他门店会员 · 金卡" or view.title.startswith("其他门店会员")
    assert dict(view.rows)["所属门店"] == "南京西路店 会员"
    assert view.member_no == plain.member_no
