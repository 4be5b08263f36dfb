"""The scan field tells a scanner burst (keys a few ms apart, then Enter) from a person typing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from ui.scan import MIN_LENGTH, ScanClassifier, ScanField

CODE = "PM1:00010100000016"


def submit(classifier: ScanClassifier, text: str, *, gap_ms: float, enter_after_ms: float
           ) -> bool:
    t = 1000.0
    for _ in text:
        classifier.key(t)
        t += gap_ms
    return classifier.enter(t - gap_ms + enter_after_ms, len(text))


# --- the timing rule, without a display -------------------------------------------------------


def test_keys_5_ms_apart_with_enter_right_after_are_a_scan() -> None:
    assert submit(ScanClassifier(), CODE, gap_ms=5, enter_after_ms=5) is True


def test_keys_120_ms_apart_are_typing() -> None:
    assert submit(ScanClassifier(), "13812345678", gap_ms=120, enter_after_ms=120) is False


def test_a_burst_followed_by_a_late_enter_is_typing() -> None:
    assert submit(ScanClassifier(), CODE, gap_ms=5, enter_after_ms=400) is False


def test_one_slow_key_in_a_burst_makes_it_typing() -> None:
    classifier = ScanClassifier()
    for t in (0, 5, 10, 200, 205, 210, 215):
        classifier.key(t)
    assert classifier.enter(220, 7) is False


@pytest.mark.parametrize("text", ["", "1", "9" * (MIN_LENGTH - 1)])
def test_short_input_is_never_a_scan(text: str) -> None:
    assert submit(ScanClassifier(), text, gap_ms=2, enter_after_ms=2) is False


def test_each_submission_is_judged_on_its_own_keys() -> None:
    classifier = ScanClassifier()
    assert submit(classifier, "13812345678", gap_ms=120, enter_after_ms=120) is False
    assert submit(classifier, CODE, gap_ms=5, enter_after_ms=5) is True


# --- the field, driven by key events ----------------------------------------------------------


@pytest.fixture
def field(qtbot: QtBot) -> ScanField:
    f = ScanField()
    qtbot.addWidget(f)
    f.show()
    return f


def test_a_burst_of_keys_then_enter_is_submitted_as_a_scan(qtbot: QtBot, field: ScanField
                                                           ) -> None:
    qtbot.keyClicks(field, CODE)
    with qtbot.waitSignal(field.submitted) as got:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert got.args == [CODE, True]


def test_keys_typed_by_a_person_are_submitted_as_typing(qtbot: QtBot, field: ScanField) -> None:
    qtbot.keyClicks(field, "13812345678", delay=80)
    with qtbot.waitSignal(field.submitted) as got:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert got.args == ["13812345678", False]


def test_enter_clears_the_field(qtbot: QtBot, field: ScanField) -> None:
    qtbot.keyClicks(field, CODE)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert field.text() == ""


def test_enter_on_the_keypad_submits_too(qtbot: QtBot, field: ScanField) -> None:
    qtbot.keyClicks(field, CODE)
    with qtbot.waitSignal(field.submitted) as got:
        qtbot.keyClick(field, Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert got.args[0] == CODE


def test_surrounding_spaces_are_not_submitted(qtbot: QtBot, field: ScanField) -> None:
    qtbot.keyClicks(field, f"  {CODE} ")
    with qtbot.waitSignal(field.submitted) as got:
        qtbot.keyClick(field, Qt.Key.Key_Return)
    assert got.args[0] == CODE


def test_enter_on_an_empty_field_submits_nothing(qtbot: QtBot, field: ScanField) -> None:
    with qtbot.assertNotEmitted(field.submitted):
        qtbot.keyClick(field, Qt.Key.Key_Return)
