"""The demo store: a store, a till, one staff member per role (and six guides), ~2,000 members.

Members are registered through the real service, so each has its event and audit entry; their
registration times are spread over the past year by a moving clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from pos_member.bootstrap import App
from pos_member.clock import Clock, FakeClock
from pos_member.crypto import KeyStore
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk, Role
from pos_member.services.member_cards import Channel, Gender
from pos_member.services.members import register_member
from pos_member.services.staff import create_staff, list_staff


@dataclass(frozen=True)
class DemoStaff:
    code: str
    name: str
    role: Role
    pin: str


DEMO_STORE = (1, "演示门店·南京西路店")
DEMO_DEVICE = (1, "收银台 1")
DEMO_STAFF = (
    DemoStaff("9001", "管理员", Role.ADMIN, "975310"),
    DemoStaff("8001", "周店长", Role.MANAGER, "802468"),
    DemoStaff("1001", "林收银", Role.CASHIER, "135790"),
    DemoStaff("2001", "王芳", Role.GUIDE, "246801"),
    DemoStaff("2002", "李娜", Role.GUIDE, "246802"),
    DemoStaff("2003", "张敏", Role.GUIDE, "246803"),
    DemoStaff("2004", "刘洋", Role.GUIDE, "246804"),
    DemoStaff("2005", "陈静", Role.GUIDE, "246805"),
    DemoStaff("2006", "杨磊", Role.GUIDE, "246806"),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕"
    "丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅红建华文辉力鹏宇浩然欣怡梓涵子轩"
    "雨婷佳琪思远嘉怡晨曦俊杰一诺若曦志强海燕丹丹晓东婷婷雪梅国强春梅建国丽娟"
)
PHONE_PREFIXES = tuple(
    str(p)
    for p in (*range(130, 140), *range(150, 154), *range(155, 160), 166, 170, *range(176, 179),
              *range(180, 190), 191, 198, 199)
)
TAGS = ("咖啡", "烘焙", "亲子", "运动", "美妆", "数码", "会员日常客")


def demo_phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def demo_name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) if rng.random() < 0.35 else rng.choice(GIVEN) + rng.choice(GIVEN)
    return rng.choice(SURNAMES) + given


def demo_channel(rng: random.Random, *, can_refer: bool) -> Channel:
    """How a demo member came: mostly recruited by a guide; a referral needs a member before."""
    channel = rng.choices(
        (Channel.GUIDE, Channel.WALK_IN, Channel.CAMPAIGN, Channel.REFERRAL),
        weights=(60, 20, 15, 5),
    )[0]
    return Channel.WALK_IN if channel is Channel.REFERRAL and not can_refer else channel


def create_demo_store(
    app: App, keystore: KeyStore, *, members: int = 2000, seed: int = 2026,
    clock: Clock | None = None,
) -> bool:
    """Fills an empty till with the demo store. Returns False (and changes nothing) if the till
    is already set up, so running the demo again just opens it."""
    uow = app.uow
    if app.identity is not None:
        return False
    ident = app.set_up(
        keystore,
        store_number=DEMO_STORE[0],
        store_name=DEMO_STORE[1],
        device_number=DEMO_DEVICE[0],
        device_name=DEMO_DEVICE[1],
    )
    system = ident.system_clerk()
    for st in DEMO_STAFF:
        create_staff(uow, clerk=system, code=st.code, name=st.name, role=st.role, secret=st.pin)
    _register_demo_members(uow, ident.system_clerk(), members, seed, clock or uow.clock)
    return True


def _register_demo_members(
    uow: UnitOfWork, system: Clerk, count: int, seed: int, real_clock: Clock
) -> None:
    rng = random.Random(seed)
    guides = list_staff(uow, role=Role.GUIDE)
    cashier = list_staff(uow, role=Role.CASHIER)[0]
    clerk = Clerk(cashier.id, cashier.name, Role.CASHIER, system.store_id, system.device_id)
    # Registration times spread evenly over the past year, each a little after its slot.
    start = real_clock.now() - timedelta(days=365)
    step = timedelta(days=365) / max(count, 1)
    fake = FakeClock(start)
    demo_uow = UnitOfWork(uow.db, clock=fake, rules=uow.rules, cipher=uow.cipher)
    phones: list[str] = []
    taken: set[str] = set()
    for i in range(count):
        fake.set(start + step * i + step * rng.random() / 2)
        phone = demo_phone(rng)
        while phone in taken:
            phone = demo_phone(rng)
        channel = demo_channel(rng, can_refer=bool(phones))
        with_profile = rng.random() < 0.7
        birthday = date(rng.randint(1960, 2006), rng.randint(1, 12), rng.randint(1, 28))
        register_member(
            demo_uow,
            clerk=clerk,
            phone=phone,
            privacy_consent=True,
            marketing_consent=rng.random() < 0.6,
            name=demo_name(rng) if with_profile else None,
            gender=rng.choice((Gender.FEMALE, Gender.FEMALE, Gender.MALE))
            if with_profile
            else None,
            birthday=birthday if with_profile and rng.random() < 0.6 else None,
            tags=tuple(rng.sample(TAGS, rng.randint(0, 2))),
            channel=channel,
            guide_id=rng.choice(guides).id if channel is Channel.GUIDE else None,
            referrer=rng.choice(phones) if channel is Channel.REFERRAL else None,
        )
        phones.append(phone)
        taken.add(phone)
