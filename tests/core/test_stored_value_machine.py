"""Stored value as a state machine: hypothesis drives top-ups, payments with every factor,
refunds of both, freezes, PIN locks, retries and clock jumps against one till, and a plain
model says what each step must do. SMS codes go through a fake head office
(``tests.core.sms_fake``) that keeps the real code rules. After every step principal, bonus
and total equal their ledger sums, nothing is negative, and a refused operation has moved no
money (and, unless it was a wrong PIN, which counts towards the lock, changed no table at
all)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select, update

from pos_member.db.models.stored_value import SvCredential
from pos_member.errors import DomainError
from pos_member.services.member_auth import provision_totp, set_member_pin, totp_at
from pos_member.services.stored_value import Factor, PinFactor, SmsFactor, TotpFactor, pay, top_up
from pos_member.services.stored_value_ledger import get_balance, ledger_totals
from pos_member.services.stored_value_refunds import refund_payment, refund_topup
from pos_member.services.stored_value_standing import set_frozen
from pos_member.stored_value_errors import (
    AccountFrozen,
    AlreadyRefunded,
    ApprovalRefused,
    ApprovalRequired,
    InsufficientBalance,
    InvalidAmount,
    InvalidDynamicCode,
    MalformedDynamicCode,
    MemberPinLocked,
    OfflineCapReached,
    ReasonRequired,
    SecondFactorRequired,
    SmsCodeInvalid,
    SmsUnavailable,
    TopupAlreadySpent,
    TxnIdConflict,
    WrongMemberPin,
)
from tests.core.sms_fake import FakeHqSms, wrong
from tests.factories import Till, clone_till, make_till

PIN = "739182"
WRONG_PIN = "739183"
MEMBERS = 2
FIRST_TOPUP_BONUS = 500  # the machine runs with a first top-up extra, to exercise it too

_till: Till | None = None
_examples = count(1)
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class Op:
    """A booked operation as the model remembers it, to retry and refund it."""

    kind: str  # topup | payment | payment_refund | topup_refund
    member: int
    amount: int  # top-up: principal paid in; payment: amount paid
    principal: int  # signed deltas
    bonus: int
    ref: str | None = None
    factor: Factor | None = None
    online: bool = True


@dataclass
class Account:
    member_id: str
    principal: int = 0
    bonus: int = 0
    frozen: bool = False
    topups: int = 0
    pin_failures: int = 0
    pin_locked_until: datetime | None = None
    totp_secret: str = ""
    totp_last_step: int = 0
    offline_spent: dict[date, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.principal + self.bonus


class StoredValueMachine(RuleBasedStateMachine):
    """Each example runs on its own copy of one set-up till (setting one up hashes every staff
    PIN, so it is done once), so each starts from empty accounts and a refusal's dump compares
    only that example's rows."""

    def __init__(self) -> None:
        super().__init__()
        assert _till is not None
        self.till = with_test_rules(clone_till(_till, _till.path.with_name(
            f"example-{next(_examples)}.sqlite")))
        self.accounts: list[Account] = []
        self.ops: dict[str, Op] = {}
        self.refunded: set[str] = set()
        self.n = 0
        self.till.clock.set(START)  # the clock, shared with the set-up till, starts over
        self.hq = FakeHqSms(self.till.uow.rules.stored_value.sms, self.till.clock)

    @initialize(opening=st.lists(st.sampled_from([120_000, 10_000, 0]), min_size=MEMBERS,
                                 max_size=MEMBERS))
    def members(self, opening: list[int]) -> None:
        for i in range(MEMBERS):
            m = self.till.register()
            set_member_pin(self.till.uow, clerk=self.till.cashier, approver=self.till.manager,
                           member_id=m.id, pin=PIN)
            secret = provision_totp(self.till.uow, clerk=self.till.cashier,
                                    approver=self.till.manager, member_id=m.id).secret
            self.accounts.append(Account(m.id, totp_secret=secret))
            if opening[i]:  # most examples start with money, so payments get going
                self.top_up(i, opening[i], "cash")

    def teardown(self) -> None:
        self.till.app.close()
        for path in self.till.path.parent.glob(f"{self.till.path.name}*"):  # -wal, -shm
            path.unlink()

    # -- helpers --------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.till.clock.now()

    @property
    def sv_rules(self) -> Any:
        return self.till.uow.rules.stored_value

    def _txn(self) -> str:
        self.n += 1
        return f"t{self.n}"

    def _refused(self, error: type[DomainError], call: Any, *, wrong_pin: bool = False) -> None:
        """``call`` must raise ``error`` and change nothing (a wrong PIN: no money moved). A
        refusal while locked may cut the lock to the rules' minutes from now (a clock that
        went back: ``member_auth._locked``), committed with it, and change nothing else."""
        counts, before = self.till.table_counts(), self.till.dump()
        locks = self._locks()
        balances = [get_balance(self.till.uow, a.member_id) for a in self.accounts]
        with pytest.raises(error):
            call()
        if wrong_pin:  # the failure count and a lock (its event, audit row, notification)
            assert self.till.table_counts()["sv_ledger"] == counts["sv_ledger"]
        elif error is MemberPinLocked and self._locks() != locks:
            longest = self.till.clock.now() + timedelta(
                minutes=self.sv_rules.pin.lock_minutes)
            for member_id, until in self._locks().items():
                if until != locks[member_id]:
                    assert until == longest < locks[member_id]  # type: ignore[operator]
            with self.till.uow.begin() as tx:  # the cut put back: nothing else changed
                for member_id, until in locks.items():
                    tx.conn.execute(update(SvCredential).where(
                        SvCredential.member_id == member_id).values(pin_locked_until=until))
                tx.commit()
            assert self.till.dump() == before
        else:
            assert self.till.dump() == before
        assert [get_balance(self.till.uow, a.member_id) for a in self.accounts] == balances

    def _locks(self) -> dict[str, datetime | None]:
        """Each member's PIN lock end as stored."""
        with self.till.uow.read() as s:
            rows = s.execute(select(SvCredential.member_id, SvCredential.pin_locked_until))
            return {member_id: until for member_id, until in rows}

    # -- top-ups --------------------------------------------------------------------------

    @rule(member=st.integers(0, MEMBERS - 1),
          amount=st.sampled_from([1, 9_999, 10_000, 12_345, 50_000, 100_000, 0]),
          method=st.sampled_from(["cash", "card", "third_party"]))
    def top_up(self, member: int, amount: int, method: str) -> None:
        acc = self.accounts[member]
        txn = self._txn()
        ref = "WX1" if method == "third_party" else None

        def call() -> Any:
            return top_up(self.till.uow, clerk=self.till.cashier, member_id=acc.member_id,
                          amount_fen=amount, method=method, txn_id=txn, method_ref=ref)

        if amount <= 0:
            self._refused(InvalidAmount, call)
            return
        bonus = 0
        for step in self.sv_rules.topup_bonus:
            if amount >= step.min_fen:
                bonus = step.bonus_fen
        if acc.topups == 0:
            bonus += FIRST_TOPUP_BONUS
        r = call()
        assert (r.principal_delta_fen, r.bonus_delta_fen, r.replayed) == (amount, bonus, False)
        acc.principal += amount
        acc.bonus += bonus
        acc.topups += 1
        self.ops[txn] = Op("topup", member, amount, amount, bonus)

    # -- payments -------------------------------------------------------------------------

    def _factor(self, acc: Account, kind: str, amount: int, txn: str) -> Factor | None:
        step = self.sv_rules.totp.step_seconds
        now_step = int(self.now.timestamp()) // step
        if kind == "pin":
            return PinFactor(PIN)
        if kind == "wrong_pin":
            return PinFactor(WRONG_PIN)
        if kind == "totp_malformed":
            return TotpFactor("12a456")
        if kind.startswith("totp"):
            offset = {"totp": 0, "totp_prev": -1, "totp_next": 1, "totp_stale": -3}[kind]
            return TotpFactor(totp_at(acc.totp_secret, (now_step + offset) * step))
        if kind.startswith("sms"):
            cid, code = self.hq.send(member_id=acc.member_id, amount_fen=amount, txn_id=txn)
            if kind == "sms_used":  # verified once already (an earlier try spent it)
                self.hq.sms_verify(challenge_id=cid, member_id=acc.member_id,
                                   amount_fen=amount, txn_id=txn, code=code)
            return SmsFactor(cid, {"sms_wrong": wrong(code), "sms_no_code": ""}.get(kind, code))
        return None

    def _expected_refusal(self, acc: Account, amount: int, factor: Factor | None,
                          online: bool, approver: str,
                          kind: str) -> tuple[type[DomainError] | None, bool]:
        """The error the service must raise (None: it pays) and whether it is a PIN failure
        that counts; follows the documented order of checks."""
        if amount <= 0:
            return InvalidAmount, False
        if factor is None:
            return SecondFactorRequired, False
        if isinstance(factor, TotpFactor) and not factor.code.isdigit():
            return MalformedDynamicCode, False
        if isinstance(factor, SmsFactor) and not online:
            return SmsUnavailable, False
        if isinstance(factor, SmsFactor) and not factor.code:
            return SecondFactorRequired, False
        if acc.frozen:
            return AccountFrozen, False
        if amount > acc.total:
            return InsufficientBalance, False
        day = self.till.clock.local(self.now).date()
        cap = self.sv_rules.offline_daily_cap_fen
        if not online and acc.offline_spent.get(day, 0) + amount > cap:
            return OfflineCapReached, False
        if amount >= self.sv_rules.manager_approval_fen:
            if approver == "none":
                return ApprovalRequired, False
            if approver == "cashier":
                return ApprovalRefused, False
        if isinstance(factor, PinFactor):
            if acc.pin_locked_until is not None and acc.pin_locked_until > self.now:
                return MemberPinLocked, False
            if factor.pin != PIN:
                return (WrongMemberPin if acc.pin_failures + 1 < self.sv_rules.pin.max_tries
                        else MemberPinLocked), True
        if isinstance(factor, TotpFactor):
            # a wrong dynamic code counts like a wrong PIN, towards the same lock
            if acc.pin_locked_until is not None and acc.pin_locked_until > self.now:
                return MemberPinLocked, False
            step = self.sv_rules.totp.step_seconds
            now_step = int(self.now.timestamp()) // step
            window = self.sv_rules.totp.window_steps
            accepted = [s for s in range(now_step - window, now_step + window + 1)
                        if s > acc.totp_last_step
                        and totp_at(acc.totp_secret, s * step) == factor.code]
            if not accepted:
                return (InvalidDynamicCode if acc.pin_failures + 1 < self.sv_rules.pin.max_tries
                        else MemberPinLocked), True
        if isinstance(factor, SmsFactor) and kind != "sms":
            return SmsCodeInvalid, False
        return None, False

    AMOUNTS = st.sampled_from([5_000, 999, 1, 10_001, 30_000, 50_000, 100_000, 0, -1])
    APPROVERS = st.sampled_from(["none", "manager", "cashier"])

    # one rule per factor family, so hypothesis picks payments as often as the rest
    @rule(member=st.integers(0, MEMBERS - 1), amount=AMOUNTS,
          factor=st.sampled_from(["pin", "wrong_pin", "wrong_pin"]), online=st.booleans(),
          approver=APPROVERS)
    def pay_with_pin(self, member: int, amount: int, factor: str, online: bool,
                     approver: str) -> None:
        self.pay(member, amount, factor, online, approver)

    @rule(member=st.integers(0, MEMBERS - 1), amount=AMOUNTS,
          factor=st.sampled_from(["totp", "totp_prev", "totp_next", "totp_stale",
                                  "totp_malformed"]), online=st.booleans(), approver=APPROVERS)
    def pay_with_dynamic_code(self, member: int, amount: int, factor: str, online: bool,
                              approver: str) -> None:
        self.pay(member, amount, factor, online, approver)

    @rule(member=st.integers(0, MEMBERS - 1), amount=AMOUNTS,
          factor=st.sampled_from(["sms", "sms", "sms_wrong", "sms_used", "sms_no_code",
                                  "none"]), online=st.booleans(), approver=APPROVERS)
    def pay_with_sms_or_nothing(self, member: int, amount: int, factor: str, online: bool,
                                approver: str) -> None:
        self.pay(member, amount, factor, online, approver)

    @rule(member=st.integers(0, MEMBERS - 1))
    def wrong_pin_until_locked(self, member: int) -> None:
        for _ in range(self.sv_rules.pin.max_tries):
            self.pay(member, 1, "wrong_pin", True, "none")

    @rule(member=st.integers(0, MEMBERS - 1), online=st.booleans())
    def same_dynamic_code_twice(self, member: int, online: bool) -> None:
        self.pay(member, 999, "totp", online, "none")
        self.pay(member, 999, "totp", online, "none")

    def pay(self, member: int, amount: int, factor: str, online: bool, approver: str) -> None:
        acc = self.accounts[member]
        txn = self._txn()
        f = self._factor(acc, factor, amount, txn)
        by = {"none": None, "manager": self.till.manager, "cashier": self.till.cashier}[approver]

        def call() -> Any:
            return pay(self.till.uow, clerk=self.till.cashier, member_id=acc.member_id,
                       amount_fen=amount, txn_id=txn, factor=f, online=online, approver=by,
                       sms_verifier=self.hq)

        error, counts_as_failure = self._expected_refusal(acc, amount, f, online, approver,
                                                          factor)
        if error is not None:
            self._refused(error, call, wrong_pin=counts_as_failure)
            if counts_as_failure:
                acc.pin_failures += 1
                if acc.pin_failures >= self.sv_rules.pin.max_tries:
                    acc.pin_failures = 0
                    acc.pin_locked_until = self.now + timedelta(
                        minutes=self.sv_rules.pin.lock_minutes)
            return
        from_bonus = amount * acc.bonus // acc.total
        r = call()
        assert (r.principal_delta_fen, r.bonus_delta_fen) == (-(amount - from_bonus),
                                                              -from_bonus)
        acc.principal -= amount - from_bonus
        acc.bonus -= from_bonus
        if isinstance(f, PinFactor | TotpFactor):
            acc.pin_failures = 0
        if isinstance(f, TotpFactor):
            step = self.sv_rules.totp.step_seconds
            now_step = int(self.now.timestamp()) // step
            acc.totp_last_step = next(
                s for s in range(now_step - 1, now_step + 2)
                if s > acc.totp_last_step and totp_at(acc.totp_secret, s * step) == f.code)
        if not online:
            day = self.till.clock.local(self.now).date()
            acc.offline_spent[day] = acc.offline_spent.get(day, 0) + amount
        self.ops[txn] = Op("payment", member, amount, -(amount - from_bonus), -from_bonus,
                           factor=f, online=online)

    # -- refunds --------------------------------------------------------------------------

    def _of_kind(self, kind: str) -> list[str]:
        return sorted(t for t, op in self.ops.items() if op.kind == kind)

    @precondition(lambda self: self._of_kind("payment"))
    @rule(data=st.data())
    def refund_payment(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(self._of_kind("payment")))
        op = self.ops[ref]
        acc = self.accounts[op.member]
        txn = self._txn()

        def call() -> Any:
            return refund_payment(self.till.uow, clerk=self.till.cashier,
                                  approver=self.till.manager, member_id=acc.member_id,
                                  ref_txn_id=ref, txn_id=txn)

        if ref in self.refunded:
            self._refused(AlreadyRefunded, call)
            return
        r = call()
        assert (r.principal_delta_fen, r.bonus_delta_fen) == (-op.principal, -op.bonus)
        acc.principal -= op.principal
        acc.bonus -= op.bonus
        self.refunded.add(ref)
        self.ops[txn] = Op("payment_refund", op.member, 0, -op.principal, -op.bonus, ref=ref)

    @precondition(lambda self: self._of_kind("topup"))
    @rule(data=st.data())
    def refund_topup(self, data: st.DataObject) -> None:
        ref = data.draw(st.sampled_from(self._of_kind("topup")))
        op = self.ops[ref]
        acc = self.accounts[op.member]
        txn = self._txn()

        def call() -> Any:
            return refund_topup(self.till.uow, clerk=self.till.manager, approver=self.till.manager,
                                member_id=acc.member_id, ref_txn_id=ref, txn_id=txn)

        if ref in self.refunded:
            self._refused(AlreadyRefunded, call)
            return
        if acc.principal < op.principal:
            self._refused(TopupAlreadySpent, call)
            return
        bonus_back = min(op.bonus, acc.bonus)
        r = call()
        assert (r.principal_delta_fen, r.bonus_delta_fen) == (-op.principal, -bonus_back)
        assert r.cash_fen == max(0, op.principal - (op.bonus - bonus_back))
        acc.principal -= op.principal
        acc.bonus -= bonus_back
        self.refunded.add(ref)
        self.ops[txn] = Op("topup_refund", op.member, 0, -op.principal, -bonus_back, ref=ref)

    # -- retries: the same txn_id returns the first result and moves nothing ---------------

    @precondition(lambda self: self.ops)
    @rule(data=st.data())
    def retry(self, data: st.DataObject) -> None:
        txn = data.draw(st.sampled_from(sorted(self.ops)))
        op = self.ops[txn]
        acc = self.accounts[op.member]
        uow = self.till.uow
        counts = self.till.table_counts()
        if op.kind == "topup":
            r = top_up(uow, clerk=self.till.cashier, member_id=acc.member_id,
                       amount_fen=op.amount, method="cash", txn_id=txn)
        elif op.kind == "payment":
            # a wrong factor on the retry does not matter: the first result stands, and no
            # SMS code is asked for
            factor: Factor = SmsFactor("c-unknown", "000000") \
                if op.online and data.draw(st.booleans()) else PinFactor(WRONG_PIN)
            asked = self.hq.verify_calls
            r = pay(uow, clerk=self.till.cashier, member_id=acc.member_id,
                    amount_fen=op.amount, txn_id=txn, factor=factor, online=op.online,
                    approver=None, sms_verifier=self.hq)
            assert self.hq.verify_calls == asked
        elif op.kind == "payment_refund":
            r = refund_payment(uow, clerk=self.till.cashier, approver=self.till.manager,
                               member_id=acc.member_id, ref_txn_id=str(op.ref), txn_id=txn)
        else:
            r = refund_topup(uow, clerk=self.till.manager, approver=self.till.manager,
                             member_id=acc.member_id, ref_txn_id=str(op.ref), txn_id=txn)
        assert r.replayed
        assert (r.principal_delta_fen, r.bonus_delta_fen) == (op.principal, op.bonus)
        assert self.till.table_counts() == counts

    @precondition(lambda self: self._of_kind("topup"))
    @rule(data=st.data())
    def reuse_txn_for_something_else(self, data: st.DataObject) -> None:
        txn = data.draw(st.sampled_from(self._of_kind("topup")))
        op = self.ops[txn]
        acc = self.accounts[op.member]
        self._refused(TxnIdConflict, lambda: pay(
            self.till.uow, clerk=self.till.cashier, member_id=acc.member_id, amount_fen=1,
            txn_id=txn, factor=PinFactor(PIN), online=True))
        self._refused(TxnIdConflict, lambda: top_up(
            self.till.uow, clerk=self.till.cashier, member_id=acc.member_id,
            amount_fen=op.amount + 1, method="cash", txn_id=txn))

    # -- freezes --------------------------------------------------------------------------

    @rule(member=st.integers(0, MEMBERS - 1), frozen=st.booleans(),
          reason=st.sampled_from(["lost card", "lost card", "lost card", " "]))
    def freeze(self, member: int, frozen: bool, reason: str) -> None:
        acc = self.accounts[member]

        def call() -> Any:
            return set_frozen(self.till.uow, clerk=self.till.manager, member_id=acc.member_id,
                              frozen=frozen, reason=reason)

        if not reason.strip():
            self._refused(ReasonRequired, call)
            return
        assert call().frozen is frozen
        acc.frozen = frozen

    # -- time -----------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 29, 31, 61, 15 * 60, 31 * 60, 6 * 3600, 86_400,
                                   -31, -3600]))
    def clock_jumps(self, seconds: int) -> None:
        self.till.clock.advance(seconds=seconds)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def balances_equal_their_ledgers_and_the_model(self) -> None:
        with self.till.uow.read() as s:
            for acc in self.accounts:
                b = get_balance(self.till.uow, acc.member_id)
                assert ledger_totals(s, acc.member_id) == (b.principal_fen, b.bonus_fen)
                assert (b.principal_fen, b.bonus_fen, b.frozen) == (acc.principal, acc.bonus,
                                                                    acc.frozen)
                assert b.principal_fen >= 0 and b.bonus_fen >= 0
                assert b.total_fen == acc.total


def with_test_rules(till: Till) -> Till:
    """The machine's rules: a first top-up extra, and no registration limit."""
    sv = dataclasses.replace(till.uow.rules.stored_value,
                             first_topup_bonus_fen=FIRST_TOPUP_BONUS)
    reg = dataclasses.replace(till.uow.rules.registration, rate_limit_count=10_000)
    till.uow.rules = dataclasses.replace(till.uow.rules, stored_value=sv, registration=reg)
    return till


def test_stored_value_state_machine(tmp_path: Path) -> None:
    global _till
    _till = make_till(tmp_path)
    try:
        run_state_machine_as_test(StoredValueMachine, settings=settings(
            max_examples=28, stateful_step_count=40, deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    finally:
        _till.app.close()
        _till = None


def test_a_lock_cut_by_a_clock_gone_back_changes_nothing_else(tmp_path: Path) -> None:
    """The machine's example that found the cut (d95d747) before it was allowed: locked, the
    clock back 31 s, locked again; every try after refused, the lock cut once, nothing else."""
    global _till
    _till = make_till(tmp_path)
    machine = StoredValueMachine()
    try:
        machine.members(opening=[120_000, 120_000])
        machine.wrong_pin_until_locked(member=0)
        machine.clock_jumps(seconds=-31)
        machine.wrong_pin_until_locked(member=0)
        machine.balances_equal_their_ledgers_and_the_model()
    finally:
        machine.teardown()
        _till.app.close()
        _till = None
