"""A serial-port scanner at the till: its lines are routed like the scan field's, on the GUI
thread; garbage changes nothing; an unplugged scanner is said once, and again when back."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

import ui.till_serial
from pos_member.config import ScannerPort
from pos_member.permissions import Clerk
from tests.core.test_serial_scanner import Port
from tests.factories import Till
from tests.ui.conftest import settle
from ui.till import TillWindow

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")


@pytest.fixture
def port(tmp_path: Path) -> Iterator[Port]:
    p = Port(tmp_path / "ttyScanner")
    p.plug()
    yield p
    if p.master is not None:
        p.unplug()


@pytest.fixture
def serial_till(qtbot: QtBot, open_till: Callable[[Clerk], TillWindow], till: Till,
                port: Port, monkeypatch: pytest.MonkeyPatch) -> Iterator[TillWindow]:
    monkeypatch.setattr(ui.till_serial, "RETRY_S", 0.05)
    till.app.scanner = ScannerPort(str(port.path), 9600)
    window = open_till(till.cashier)
    window.start()
    yield window
    window.close()  # stops the reader thread (on_stop)


def test_a_line_from_the_serial_scanner_shows_the_card(
        qtbot: QtBot, serial_till: TillWindow, till: Till, port: Port) -> None:
    m = till.register(phone="13900006666")
    # The reader opens the port on its own thread: send until it has read the line.
    qtbot.waitUntil(lambda: port.write(f"PM1:{m.member_no}\r\n".encode()) is None
                    and serial_till.card_view.card is not None, timeout=10000)
    assert serial_till.card_view.card.id == m.id  # type: ignore[union-attr]


def test_serial_garbage_changes_nothing_and_the_next_good_line_is_read(
        qtbot: QtBot, serial_till: TillWindow, till: Till, port: Port) -> None:
    m = till.register(phone="13900006666")
    other = till.register(phone="13900007777")
    qtbot.waitUntil(lambda: port.write(f"{m.member_no}\r\n".encode()) is None
                    and serial_till.card_view.card is not None, timeout=10000)
    settle(qtbot, serial_till)
    serial_till.banner.hide()
    port.write(b"\xff\xfe\xfd\r\n" + b"1" * 300 + b"\r\n\x00\x01\x02\r\n")
    port.write(f"{other.member_no}\r\n".encode())
    qtbot.waitUntil(lambda: serial_till.card_view.card is not None
                    and serial_till.card_view.card.id == other.id, timeout=10000)
    assert not serial_till.banner.isVisible()  # the refused bytes said nothing, cleared nothing


def test_an_unplugged_scanner_is_said_once_and_again_when_back(
        qtbot: QtBot, serial_till: TillWindow, till: Till, port: Port) -> None:
    m = till.register(phone="13900006666")
    qtbot.waitUntil(lambda: port.write(f"{m.member_no}\r\n".encode()) is None
                    and serial_till.card_view.card is not None, timeout=10000)
    port.unplug()
    qtbot.waitUntil(lambda: serial_till.banner.isVisible()
                    and serial_till.banner.property("kind") == "error", timeout=10000)
    assert "扫码枪" in serial_till.banner.text()
    assert serial_till.card_view.card is not None  # the card stays
    port.plug()
    qtbot.waitUntil(lambda: serial_till.banner.property("kind") == "info", timeout=10000)
    assert "扫码枪" in serial_till.banner.text()


def test_without_a_scanner_port_the_till_opens_no_port(
        open_till: Callable[[Clerk], TillWindow], till: Till) -> None:
    assert till.app.scanner is None
    window = open_till(till.cashier)
    window.start()
    assert not any(t.name == "serial-scanner" for t in threading.enumerate())
