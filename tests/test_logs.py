"""The programs' log files: where they go, what a start writes, what an uncaught error writes,
and the last guard that masks a phone number or a bearer token in any line."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from pos_member_app.logs import scrub, start_logging, stop_logging


@pytest.mark.parametrize("text", [
    "phone 13912345678 here", "+86 139-1234-5678", "86 13912345678", "x=13912345678;",
])
def test_a_mobile_number_is_masked(text: str) -> None:
    assert "1234" not in scrub(text).replace("1**********", "")
    assert "1**********" in scrub(text)


@pytest.mark.parametrize("text", [
    "member 20261204000123", "at 1764823456789 ms", "device 01a23f8b-4697-7499", "pushed 13 new",
])
def test_member_numbers_times_and_counts_are_kept(text: str) -> None:
    assert scrub(text) == text


def test_a_bearer_token_is_masked() -> None:
    assert scrub("Authorization: Bearer abc.DEF-123") == "Authorization: Bearer ***"


def test_a_start_writes_the_program_and_version_and_errors_with_tracebacks(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(tmp_path / "日志"))
    path = start_logging("pos-member")
    try:
        assert path == tmp_path / "日志" / "pos-member.log"
        try:
            raise RuntimeError("member 13912345678 broke it")
        except RuntimeError:
            sys.excepthook(*sys.exc_info())  # as Qt does for an exception in a slot
        logging.getLogger("pos_member.test").info("门店 %s", "一号店")
    finally:
        stop_logging()
    text = path.read_text(encoding="utf-8")
    assert "pos-member 0.1.0 starting" in text
    assert "CRITICAL" in text and "Traceback" in text and "RuntimeError" in text
    assert "13912345678" not in text
    assert "门店 一号店" in text
    assert sys.excepthook is sys.__excepthook__


def test_starting_again_moves_the_file_and_closes_the_old_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(tmp_path / "a"))
    start_logging("pos-member")
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(tmp_path / "b"))
    start_logging("pos-member")
    logging.getLogger("pos_member.test").warning("after the move")
    stop_logging()
    assert "after the move" not in (tmp_path / "a" / "pos-member.log").read_text("utf-8")
    assert "after the move" in (tmp_path / "b" / "pos-member.log").read_text("utf-8")


def test_processes_of_one_program_on_one_host_write_a_file_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_MEMBER_LOG_DIR", str(tmp_path))
    paths = []
    for port in ("8080", "8081"):
        paths.append(start_logging("pos-member-server", instance=port))
        logging.getLogger("sync.server.test").warning("served on %s", port)
        stop_logging()
    assert [p.name for p in paths] == ["pos-member-server-8080.log", "pos-member-server-8081.log"]
    assert [("served on 8081" in p.read_text("utf-8")) for p in paths] == [False, True]
