"""A fake head office for SMS payment codes: the real rules (``sms_codes``) over a dict, so the
core's tests and the state machine can pay with an SMS code without a server. A fake, not a
mock: it issues codes, counts tries, expires and spends them as the server does."""

from __future__ import annotations

from itertools import count

from pos_member import sms_codes
from pos_member.clock import Clock
from pos_member.rules_config import SmsRules
from pos_member.stored_value_errors import SmsCodeInvalid, SmsUnavailable


class FakeHqSms:
    """Satisfies ``stored_value.SmsVerifier``. ``down``: head office cannot be reached."""

    def __init__(self, rules: SmsRules, clock: Clock) -> None:
        self.rules, self.clock = rules, clock
        self.challenges: dict[str, sms_codes.SmsChallenge] = {}
        self.verify_calls = 0
        self.down = False
        self._ids = count(1)

    def send(self, *, member_id: str, amount_fen: int, txn_id: str) -> tuple[str, str]:
        """A new challenge; returns its id and the code the member's phone would show."""
        challenge, code = sms_codes.issue(
            self.rules, now=self.clock.now(), challenge_id=f"c{next(self._ids)}",
            member_id=member_id, amount_fen=amount_fen, txn_id=txn_id, previous=None)
        self.challenges[challenge.id] = challenge
        return challenge.id, code

    def sms_verify(self, *, challenge_id: str, member_id: str, amount_fen: int, txn_id: str,
                   code: str) -> str:
        self.verify_calls += 1
        if self.down:
            raise SmsUnavailable()
        challenge = self.challenges.get(challenge_id)
        if challenge is None:
            raise SmsCodeInvalid()
        after, ok = sms_codes.check(self.rules, challenge, now=self.clock.now(), code=code,
                                    member_id=member_id, amount_fen=amount_fen,
                                    txn_id=txn_id)
        self.challenges[challenge_id] = after
        sms_codes.require_valid(ok)
        return challenge_id


def wrong(code: str) -> str:
    """Another code of the same length."""
    return f"{(int(code) + 1) % 10 ** len(code):0{len(code)}d}"
