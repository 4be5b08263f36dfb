"""What makes a PIN too weak to set: the one PIN policy, pure (no database, no clock).

Two secrets, two rules (docs/rules.md, "PIN policy"), built from the same checks:

- A **staff** secret (the till's login, :func:`check_staff_secret`) is a 6-digit PIN or a
  password of 8 characters or more. The PIN may not be one digit repeated nor a run up or
  down. Staff PINs stay behind the login's lockout and are each colleague's own, so the rule is
  the short one every till has had. A **manager's or administrator's** PIN also approves
  ¥1,000 payments and refunds: the same risk as a member's payment PIN, so it is held to the
  member PIN's rules too (no phone or birthday to compare with). Checked when a PIN is set or
  reset; PINs set before keep working (docs/rules.md, "PIN policy").
- A **member's** payment PIN (:func:`check_member_pin`) pays out stored value at any till of
  the chain, so it is stricter: 6 ASCII digits, and none of the patterns people pick most
  (few different digits, runs, repeats, pairs, mirrors, :data:`COMMON_PINS`, the phone's last
  six, the birthday in its usual spellings).
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise

from pos_member.errors import WeakApproverPin, WeakSecret
from pos_member.stored_value_errors import WeakMemberPin

PIN_LENGTH = 6
MIN_PASSWORD = 8

# PINs people pick most often that no rule below catches: keypad lines and crosses, and the
# lucky or sweet numbers (520 "I love you", 1314 "for life", 168 "on the road to wealth").
COMMON_PINS = frozenset({
    "147258", "258369", "147369", "159753", "357159", "159357", "789456", "456123", "741852",
    "852963", "963852", "369258", "321654", "987321", "520520", "521521", "520131", "131420",
    "201314", "521314", "168168", "666888", "888666", "518518", "778899", "998877",
})


def is_run(pin: str) -> bool:
    """Every digit one more (123456) or one less (987654) than the one before."""
    return {int(b) - int(a) for a, b in pairwise(pin)} in ({1}, {-1})


def birthday_spellings(birthday: date) -> set[str]:
    """The 6-digit ways people write a birthday: YYMMDD, MMDDYY, DDMMYY, YYYYMM, MMYYYY,
    CCMMDD."""
    y4, y2 = f"{birthday.year:04d}", f"{birthday.year % 100:02d}"
    m, d = f"{birthday.month:02d}", f"{birthday.day:02d}"
    return {y2 + m + d, m + d + y2, d + m + y2, y4 + m, m + y4, y4[:2] + m + d}


def check_staff_secret(secret: str, *, approves: bool = False) -> None:
    """A staff PIN is 6 digits, not one digit repeated nor a run up or down; a password (not
    all digits) is 8+ characters. Raises :class:`WeakSecret`. ``approves``: the secret of a
    manager or administrator, whose PIN approves payments and refunds: a PIN must also pass
    :func:`check_member_pin` (:class:`WeakApproverPin`)."""
    if secret.isdigit():
        if len(secret) != PIN_LENGTH or len(set(secret)) == 1 or is_run(secret):
            raise WeakApproverPin() if approves else WeakSecret()
        if approves:
            try:
                check_member_pin(secret, phone=None, birthday=None)
            except WeakMemberPin:
                raise WeakApproverPin() from None
    elif len(secret) < MIN_PASSWORD:
        raise WeakApproverPin() if approves else WeakSecret()


def check_member_pin(pin: str, *, phone: str | None, birthday: date | None) -> None:
    """6 ASCII digits; refused: two different digits or fewer (111111, 110011), a run up or
    down (123456, 987654), a short pattern repeated (121212, 123123), three pairs (112233),
    a mirror (123321), a PIN from :data:`COMMON_PINS`, the phone's last six, the birthday
    (:func:`birthday_spellings`). Raises :class:`WeakMemberPin`."""
    if len(pin) != PIN_LENGTH or not pin.isascii() or not pin.isdigit():
        raise WeakMemberPin()
    if len(set(pin)) <= 2 or is_run(pin):
        raise WeakMemberPin()
    if pin[:2] * 3 == pin or pin[:3] * 2 == pin or pin == pin[::-1]:
        raise WeakMemberPin()
    if pin[0] == pin[1] and pin[2] == pin[3] and pin[4] == pin[5]:
        raise WeakMemberPin()
    if pin in COMMON_PINS or (phone and pin == phone[-6:]):
        raise WeakMemberPin()
    if birthday is not None and pin in birthday_spellings(birthday):
        raise WeakMemberPin()
