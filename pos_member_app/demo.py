"""The demo store: a store, a till, one staff member per role (and six guides), ~2,000 members.

Members are registered through the real service, so each has its event and audit entry; their
registration times are spread over the past year by a moving clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pos_member.bootstrap import App
from pos_member.clock import Clock, FakeClock
from pos_member.crypto import KeyStore
from pos_member.db.uow import UnitOfWork
from pos_member.permissions import Clerk, Role
from pos_member.services.member_cards import Channel, Gender
from pos_member.services.members import register_member
from pos_member.services.staff import StaffInfo, create_staff, list_staff


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
    add_demo_kpi(uow, ident.system_clerk(), seed=seed, real_clock=clock or uow.clock)
    add_demo_recall(uow, ident.system_clerk(), seed=seed, real_clock=clock or uow.clock)
    return True


def add_demo_recall(uow: UnitOfWork, system: Clerk, *, seed: int, real_clock: Clock,
                    members: int = 40, came_back: int = 12) -> None:
    """A recall campaign a month old (issue 19): ``members`` of the oldest members bought once
    150-200 days ago, the manager sent them the win-back coupon from the recall list 35 days
    ago, and ``came_back`` of them bought within the following 30 days (one with the coupon):
    the recall screen shows its 召回率 and ROI; the others are still on the list."""
    from sqlalchemy import select

    from pos_member.db.models import Member
    from pos_member.services import coupons
    from pos_member.services.checkout import Tender, checkout
    from pos_member.services.recall_campaigns import issue_recall_coupons
    from pos_member.services.sales import record_sale

    rng = random.Random(seed + 19)
    staff = {s.role: s for s in list_staff(uow)}
    manager = Clerk(staff[Role.MANAGER].id, staff[Role.MANAGER].name, Role.MANAGER,
                    system.store_id, system.device_id)
    cashier = Clerk(staff[Role.CASHIER].id, staff[Role.CASHIER].name, Role.CASHIER,
                    system.store_id, system.device_id)
    now = real_clock.now()
    with uow.read() as s:  # members already with the store then (none: no campaign)
        picked = list(s.scalars(select(Member.id).where(
            Member.registered_at < now - timedelta(days=240))
            .order_by(Member.registered_at).limit(members)))
    if not picked:
        return
    fake = FakeClock(now - timedelta(days=200), zone=real_clock.zone)
    demo_uow = UnitOfWork(uow.db, clock=fake, rules=uow.rules, cipher=uow.cipher)
    for i, member in enumerate(picked):
        fake.set(now - timedelta(days=200 - i, hours=rng.randrange(6)))
        record_sale(demo_uow, cashier, txn_id=kpi_uow_txn(rng), bill_no=f"R{i:05d}",
                    amount_fen=rng.choice((9900, 12800, 25800)), member_id=member)
    fake.set(now - timedelta(days=35))
    issue_recall_coupons(demo_uow, clerk=manager, campaign=f"{seed:016x}"[-16:],
                         member_ids=picked, template_code="WINBACK-20")
    for i, member in enumerate(picked[:came_back]):
        fake.set(now - timedelta(days=34 - 2 * i, hours=rng.randrange(6)))
        if i == 0:  # one pays with the coupon: the campaign's cost
            code = next(c.qr for c in coupons.usable(demo_uow, member_id=member)
                        if c.name == "久未光临满150减20")
            checkout(demo_uow, cashier, txn_id=kpi_uow_txn(rng), bill_no=f"RB{i:04d}",
                     amount_fen=25_800, member_id=member, tenders=(Tender("cash", 23_800),),
                     coupons=[code])
            continue
        record_sale(demo_uow, cashier, txn_id=kpi_uow_txn(rng), bill_no=f"RB{i:04d}",
                    amount_fen=rng.choice((6800, 9900, 12800)), member_id=member)


def _register_demo_members(
    uow: UnitOfWork, system: Clerk, count: int, seed: int, real_clock: Clock
) -> None:
    rng = random.Random(seed)
    guides = list_staff(uow, role=Role.GUIDE)
    cashier = list_staff(uow, role=Role.CASHIER)[0]
    clerk = Clerk(cashier.id, cashier.name, Role.CASHIER, system.store_id, system.device_id)
    # Registration times spread evenly over the past year up to a month ago, each a little after
    # its slot; the last month is ``add_demo_kpi``'s (targets, rosters, guides' registrations).
    start = real_clock.now() - timedelta(days=365)
    step = timedelta(days=335) / max(count, 1)
    fake = FakeClock(start, zone=real_clock.zone)
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


# -- recruitment KPIs (issue 7): a month of targets, rosters, registrations and sales ------------

# How each demo guide recruits, as registrations per weekday shift (a spread, so the dashboard
# shows who is ahead and who is behind), and how often their customers show a member code.
DEMO_GUIDE_PACE = (5, 4, 3, 3, 2, 1)
DEMO_GUIDE_ATTACH_PERCENT = (92, 85, 75, 70, 60, 45)


def add_demo_kpi(uow: UnitOfWork, system: Clerk, *, seed: int, real_clock: Clock,
                 days: int = 30, sales_per_day: int = 25) -> None:
    """This month's and last month's targets, a roster (each guide 5 days in 7), and for the
    last ``days`` days: registrations credited to the guides (the register service) and sales
    through ``record_sale`` (member or walk-in, credited to a guide), up to the real now.
    About ``days × (15 + sales_per_day)`` committed operations (~1,300): 5-15 s here."""
    from pos_member.config import DEFAULT_HOURS
    from pos_member.services.sales import record_sale
    from pos_member.services.targets import month_of, set_month_target, set_rosters

    rng = random.Random(seed + 7)
    guides = list_staff(uow, role=Role.GUIDE)
    staff = {s.role: s for s in list_staff(uow)}
    manager = Clerk(staff[Role.MANAGER].id, staff[Role.MANAGER].name, Role.MANAGER,
                    system.store_id, system.device_id)
    cashier = Clerk(staff[Role.CASHIER].id, staff[Role.CASHIER].name, Role.CASHIER,
                    system.store_id, system.device_id)
    now = real_clock.local()  # the store's day: opening hours are the store's
    today = now.date()
    first = today - timedelta(days=days - 1)
    fake = FakeClock(real_clock.now(), zone=real_clock.zone)
    kpi_uow = UnitOfWork(uow.db, clock=fake, rules=uow.rules, cipher=uow.cipher)
    for month in sorted({month_of(first), month_of(today)}):
        set_month_target(kpi_uow, clerk=manager, month=month, target=len(guides) * 3 * 30)
    # The roster: each guide off two days a week, staggered; today and the rest of the month.
    roster_days = [first + timedelta(days=i) for i in range(days + 31)]
    roster_days = [d for d in roster_days if month_of(d) in {month_of(first), month_of(today)}]
    set_rosters(kpi_uow, clerk=manager, rosters={
        d: [g.id for i, g in enumerate(guides) if (d.toordinal() + i) % 7 not in (0, 1)]
        for d in roster_days})
    opens, closes = DEFAULT_HOURS.opens, DEFAULT_HOURS.closes
    span = (closes.hour * 60 + closes.minute) - (opens.hour * 60 + opens.minute)
    members: list[str] = []
    bill = 0
    for offset in range(days):
        day = first + timedelta(days=offset)
        open_at = datetime.combine(day, opens, tzinfo=real_clock.zone)
        on_shift = [g for i, g in enumerate(guides) if (day.toordinal() + i) % 7 not in (0, 1)]
        weekend = 2 if day.weekday() >= 5 else 0
        events: list[tuple[int, str, object]] = []
        for g in on_shift:
            k = guides.index(g)
            pace = DEMO_GUIDE_PACE[k % len(DEMO_GUIDE_PACE)] + weekend
            for _ in range(max(0, pace + rng.randint(-1, 1))):
                events.append((rng.randrange(span), "register", g))
        for _ in range(sales_per_day + weekend * 10 + rng.randint(-5, 5)):
            events.append((rng.randrange(span), "sale", rng.choice(on_shift or guides)))
        for minute, kind, g in sorted(events, key=lambda e: e[0]):
            when = open_at + timedelta(minutes=minute, seconds=rng.randrange(60))
            if when > now:
                continue
            fake.set(when)
            guide: StaffInfo = g  # type: ignore[assignment]
            if kind == "register":
                members.append(_register_for(kpi_uow, cashier, guide, rng))
                continue
            k = guides.index(guide)
            member = rng.choice(members) if members and rng.randrange(100) < \
                DEMO_GUIDE_ATTACH_PERCENT[k % len(DEMO_GUIDE_ATTACH_PERCENT)] else None
            bill += 1
            record_sale(kpi_uow, cashier, txn_id=kpi_uow_txn(rng), bill_no=f"D{bill:06d}",
                        amount_fen=rng.choice((2900, 4800, 6800, 9900, 12800, 25800, 49900)),
                        member_id=member, guide_id=guide.id)


def kpi_uow_txn(rng: random.Random) -> str:
    return f"{rng.getrandbits(128):032x}"


def _register_for(uow: UnitOfWork, clerk: Clerk, guide: StaffInfo, rng: random.Random) -> str:
    """A demo registration credited to ``guide``; a phone already taken is drawn again."""
    from pos_member.errors import DuplicatePhone

    while True:
        try:
            return register_member(uow, clerk=clerk, phone=demo_phone(rng), privacy_consent=True,
                                   channel=Channel.GUIDE, guide_id=guide.id).id
        except DuplicatePhone:
            continue
