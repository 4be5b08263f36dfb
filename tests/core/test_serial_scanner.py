"""A serial-port scanner: its configuration, its line framing, and the reader on a real
pseudo-terminal pair (pyserial opens the slave's path, the test writes to the master)."""

from __future__ import annotations

import logging
import os
import queue
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_member.config import ScannerPort, load_config
from pos_member.errors import ConfigInvalid
from pos_member.serial_scanner import MAX_LINE, LineFramer, Refused, SerialScanner

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pseudo-terminals are POSIX")
WAIT_S = 10.0


# --- config.toml ---------------------------------------------------------------------------


def config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_no_scanner_port_means_no_serial_scanner(tmp_path: Path) -> None:
    assert load_config(config(tmp_path, "")).scanner is None


def test_the_port_and_speed_are_read(tmp_path: Path) -> None:
    assert load_config(config(tmp_path, 'scanner_port = "COM3"')).scanner == ScannerPort("COM3")
    got = load_config(config(tmp_path, 'scanner_port = "/dev/ttyUSB0"\nscanner_baud = 115200'))
    assert got.scanner == ScannerPort("/dev/ttyUSB0", 115200)


@pytest.mark.parametrize(("text", "field"), [
    ('scanner_port = ""', "scanner_port"),
    ("scanner_port = 3", "scanner_port"),
    ('scanner_port = "COM 3"', "scanner_port"),
    ('scanner_port = "COM3"\nscanner_baud = 9601', "scanner_baud"),
    ('scanner_port = "COM3"\nscanner_baud = "9600"', "scanner_baud"),
    ('scanner_port = "COM3"\nscanner_baud = true', "scanner_baud"),
    ("scanner_baud = 9600", "scanner_baud"),
])
def test_a_bad_scanner_setting_is_refused_by_name(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(ConfigInvalid) as refused:
        load_config(config(tmp_path, text))
    assert refused.value.params["field"] == field


# --- framing ---------------------------------------------------------------------------------


def test_lines_end_with_cr_lf_or_both_and_may_arrive_in_pieces() -> None:
    framer = LineFramer()
    assert framer.feed(b"PM1:0001") == []
    assert framer.feed(b"0100000016\r\n13812345678\n654321\r") == [
        "PM1:00010100000016", "13812345678", "654321"]
    assert framer.feed(b"\r\n\n") == []


def test_garbage_is_refused_with_its_reason_and_the_next_line_is_read() -> None:
    framer = LineFramer()
    assert framer.feed(b"\xff\xfe\x00abc\r\n") == [Refused.NOT_UTF8]
    assert framer.feed(b"ab\x07c\n") == [Refused.CONTROL]
    assert framer.feed(b"x" * (MAX_LINE + 1) + b"more\r\nok-123456\r\n") == [
        Refused.TOO_LONG, "ok-123456"]
    assert framer.feed("会员".encode() * 50 + b"\n") == ["会员" * 50]  # 100 characters


# --- the reader on a pseudo-terminal ---------------------------------------------------------


class Port:
    """A pseudo-terminal pair behind a fixed path (a symbolic link), like a USB scanner's
    device node: ``unplug`` closes it and removes the path, ``plug`` makes a new pair there."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.master: int | None = None
        self.slave: int | None = None

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        self.path.symlink_to(os.ttyname(self.slave))

    def write(self, data: bytes) -> None:
        assert self.master is not None
        os.write(self.master, data)

    def unplug(self) -> None:
        self.path.unlink()
        for fd in (self.master, self.slave):
            if fd is not None:
                os.close(fd)
        self.master = self.slave = None


class Reader:
    def __init__(self, port: Port) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.states: queue.Queue[bool] = queue.Queue()
        self.scanner = SerialScanner(str(port.path), 9600, on_line=self.lines.put,
                                     on_state=self.states.put, retry_s=0.05)

    def state(self) -> bool:
        return self.states.get(timeout=WAIT_S)

    def line(self) -> str:
        return self.lines.get(timeout=WAIT_S)


@pytest.fixture
def port(tmp_path: Path) -> Iterator[Port]:
    p = Port(tmp_path / "ttyScanner")
    p.plug()
    yield p
    if p.master is not None:
        p.unplug()


@pytest.fixture
def reader(port: Port) -> Iterator[Reader]:
    r = Reader(port)
    r.scanner.start()
    assert r.state() is True
    yield r
    r.scanner.stop()


def test_each_line_from_the_port_is_handed_on(port: Port, reader: Reader) -> None:
    port.write(b"PM1:00010100000016\r\n")
    port.write(b"6543")
    port.write(b"21\r")
    assert reader.line() == "PM1:00010100000016"
    assert reader.line() == "654321"


def test_garbage_bytes_are_refused_with_a_log_line_that_quotes_nothing(
        port: Port, reader: Reader, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="pos_member.serial_scanner")
    port.write(b"\xc3\x28secret\r\n" + b"9" * 500 + b"\r\nab\x1bcd\r\n13812345678\r\n")
    assert reader.line() == "13812345678"  # the only line handed on
    assert reader.lines.empty()
    refusals = [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]
    assert refusals == ["serial scanner: line refused (not UTF-8)",
                        "serial scanner: line refused (line too long)",
                        "serial scanner: line refused (control characters)"]
    assert "secret" not in caplog.text and "999" not in caplog.text


def test_an_unplugged_port_is_reported_once_and_read_again_when_back(
        port: Port, reader: Reader) -> None:
    port.unplug()
    assert reader.state() is False
    with pytest.raises(queue.Empty):  # tried again and again, reported once
        reader.states.get(timeout=0.5)
    port.plug()
    assert reader.state() is True
    port.write(b"PM1:00010100000016\n")
    assert reader.line() == "PM1:00010100000016"


def test_a_port_missing_at_start_is_reported_once(tmp_path: Path) -> None:
    r = Reader(Port(tmp_path / "absent"))
    r.scanner.start()
    try:
        assert r.state() is False
        with pytest.raises(queue.Empty):
            r.states.get(timeout=0.5)
    finally:
        r.scanner.stop()
