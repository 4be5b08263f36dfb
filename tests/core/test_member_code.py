from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pos_member.errors import MalformedCode
from pos_member.member_code import (
    MEMBER_NO_LENGTH,
    QR_PREFIX,
    CodeKind,
    classify_code,
    is_valid_member_no,
    luhn_digit,
    make_member_no,
    qr_payload,
)

store_nos = st.integers(min_value=1, max_value=9999)
device_nos = st.integers(min_value=1, max_value=99)
seqs = st.integers(min_value=1, max_value=9_999_999)
member_nos = st.builds(
    lambda store, device, seq: make_member_no(store_no=store, device_no=device, seq=seq),
    store_nos, device_nos, seqs,
)
VALID_NO = make_member_no(store_no=1, device_no=1, seq=1)


def test_luhn_digit_matches_the_textbook_example() -> None:
    assert luhn_digit("7992739871") == 3


def test_member_number_is_store_device_sequence_and_check_digit() -> None:
    no = make_member_no(store_no=12, device_no=3, seq=4567)
    assert len(no) == MEMBER_NO_LENGTH == 14
    assert no.isdigit()
    assert no[:4] == "0012"
    assert no[4:6] == "03"
    assert no[6:13] == "0004567"
    assert int(no[13]) == luhn_digit(no[:13])


@given(store_nos, device_nos, seqs)
def test_every_member_number_made_is_valid_and_carries_its_prefix(
    store: int, device: int, seq: int
) -> None:
    no = make_member_no(store_no=store, device_no=device, seq=seq)
    assert is_valid_member_no(no)
    assert no.startswith(f"{store:04d}{device:02d}")


@given(st.tuples(store_nos, device_nos, seqs), st.tuples(store_nos, device_nos, seqs))
def test_different_tills_or_sequences_never_make_the_same_number(
    a: tuple[int, int, int], b: tuple[int, int, int]
) -> None:
    no_a = make_member_no(store_no=a[0], device_no=a[1], seq=a[2])
    no_b = make_member_no(store_no=b[0], device_no=b[1], seq=b[2])
    assert (no_a == no_b) == (a == b)


@given(member_nos, st.integers(min_value=0, max_value=13), st.integers(min_value=1, max_value=9))
def test_check_digit_catches_any_single_digit_change(no: str, pos: int, shift: int) -> None:
    changed = no[:pos] + str((int(no[pos]) + shift) % 10) + no[pos + 1:]
    assert not is_valid_member_no(changed)


@pytest.mark.parametrize(
    ("store", "device", "seq"),
    [(0, 1, 1), (10_000, 1, 1), (1, 0, 1), (1, 100, 1), (1, 1, 0), (1, 1, 10_000_000)],
)
def test_make_member_no_refuses_parts_out_of_range(store: int, device: int, seq: int) -> None:
    with pytest.raises(ValueError):
        make_member_no(store_no=store, device_no=device, seq=seq)


def test_qr_payload_is_versioned() -> None:
    assert qr_payload(VALID_NO) == f"PM1:{VALID_NO}"
    assert QR_PREFIX == "PM1:"


@pytest.mark.parametrize(
    "raw", [f"PM1:{VALID_NO}", f" PM1:{VALID_NO}\r\n", f"ＰＭ１：{VALID_NO}"]
)
def test_classify_code_reads_a_member_qr_payload(raw: str) -> None:
    scanned = classify_code(raw)
    assert (scanned.kind, scanned.value) == (CodeKind.MEMBER, VALID_NO)


def test_classify_code_reads_a_bare_member_number() -> None:
    scanned = classify_code(VALID_NO)
    assert (scanned.kind, scanned.value) == (CodeKind.MEMBER, VALID_NO)


@pytest.mark.parametrize("raw", ["13812345678", "+86 138-1234-5678", "１３８１２３４５６７８"])
def test_classify_code_reads_a_typed_phone(raw: str) -> None:
    scanned = classify_code(raw)
    assert (scanned.kind, scanned.value) == (CodeKind.PHONE, "13812345678")


@given(member_nos)
def test_classify_code_routes_every_member_payload_to_its_number(no: str) -> None:
    assert classify_code(qr_payload(no)).value == no
    assert classify_code(no).kind is CodeKind.MEMBER


BAD_CHECK = VALID_NO[:-1] + str((int(VALID_NO[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "raw",
    [
        f"PM2:{VALID_NO}",  # a version this till does not know
        f"PM0:{VALID_NO}",
        f"PM1:{BAD_CHECK}",  # bad check digit
        BAD_CHECK,
        "PM1:",
        "PM1:13812345678",  # a phone is not a member payload
        f"PM1:{VALID_NO}0",
        "",
        "hello",
        "1234",
        "12812345678",
        "https://example.com/?m=1",
    ],
)
def test_classify_code_refuses_malformed_codes(raw: str) -> None:
    with pytest.raises(MalformedCode):
        classify_code(raw)


def test_malformed_code_message_shows_at_most_40_characters() -> None:
    with pytest.raises(MalformedCode) as refused:
        classify_code("x" * 500)
    assert refused.value.params["code"] == "x" * 40
