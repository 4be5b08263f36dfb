"""Every user-visible string has a Chinese translation, and the shipped .qm is current."""

from __future__ import annotations

import importlib.util
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtWidgets import QApplication

from pos_member.errors import DuplicatePhone, PermissionDenied
from pos_member.permissions import ROLE_LABELS, Action, Role
from ui.i18n import error_text, install_language

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_TS = ROOT / "resources" / "i18n" / "pos_member_zh_CN.ts"
SHIPPED_QM = SHIPPED_TS.with_suffix(".qm")
# Qt's %1 … %99 and Python's {name}: a translation must keep every one its source has.
PLACEHOLDER = re.compile(r"%\d+|\{\w+\}")
MNEMONIC = re.compile(r"&(\w)")


def _i18n_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


i18n_script = _i18n_script()


Messages = dict[tuple[str, str], ET.Element | None]


def messages(ts: Path) -> Messages:
    """(context, source) → the <translation> element of every message in a .ts file."""
    out: Messages = {}
    for ctx in ET.parse(ts).getroot().iter("context"):
        for msg in ctx.iter("message"):
            out[(ctx.findtext("name") or "", msg.findtext("source") or "")] = msg.find(
                "translation")
    return out


def finished(translation: ET.Element | None) -> bool:
    return (translation is not None and bool((translation.text or "").strip())
            and translation.get("type") not in ("unfinished", "obsolete", "vanished"))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Messages:
    """What pyside6-lupdate finds in the sources today."""
    ts = tmp_path_factory.mktemp("i18n") / "extracted.ts"
    i18n_script.lupdate(ts)
    return messages(ts)


@pytest.fixture(scope="module")
def shipped() -> Messages:
    return messages(SHIPPED_TS)


def test_lupdate_finds_the_strings_of_the_ui_and_the_core(extracted: Messages) -> None:
    contexts = {ctx for ctx, _ in extracted}
    assert {"TillWindow", "RegisterDialog", "LoginWindow", "errors", "roles"} <= contexts
    assert len(extracted) > 100


def test_every_string_in_the_sources_is_in_the_shipped_translation(
    extracted: Messages, shipped: Messages
) -> None:
    missing = sorted(key for key in extracted if key not in shipped)
    assert missing == [], "run scripts/i18n.py and translate these"


def test_every_string_in_the_sources_has_a_finished_chinese_translation(
    extracted: Messages, shipped: Messages
) -> None:
    untranslated = sorted(key for key in extracted if key in shipped
                          and not finished(shipped[key]))
    assert untranslated == []


def test_translations_keep_every_placeholder_of_their_source(shipped: Messages) -> None:
    broken = [
        (ctx, source) for (ctx, source), tr in shipped.items() if finished(tr)
        and tr is not None
        and sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(tr.text or ""))
    ]
    assert broken == []


def test_translations_keep_the_keyboard_shortcut_letter_of_their_source(
    shipped: Messages
) -> None:
    broken = [
        (ctx, source) for (ctx, source), tr in shipped.items() if finished(tr)
        and tr is not None
        and [m.upper() for m in MNEMONIC.findall(source)]
        != [m.upper() for m in MNEMONIC.findall(tr.text or "")]
    ]
    assert broken == []


def test_the_shipped_qm_is_compiled_from_the_shipped_ts(tmp_path: Path) -> None:
    qm = tmp_path / "fresh.qm"
    i18n_script.lrelease(SHIPPED_TS, qm)
    assert qm.read_bytes() == SHIPPED_QM.read_bytes(), "stale .qm: run scripts/i18n.py"


# --- domain errors in the user's language -------------------------------------------------------

DUPLICATE = DuplicatePhone(member_id="m-1", member_no="00010100000016")


def test_a_domain_error_reads_in_chinese(qapp: QApplication) -> None:
    install_language("zh_CN")
    assert error_text(DUPLICATE) == "该手机号已是会员 00010100000016 的号码。"


def test_a_domain_error_reads_in_english(qapp: QApplication) -> None:
    install_language("en")
    try:
        assert error_text(DUPLICATE) == (
            "This phone number already belongs to member 00010100000016.")
    finally:
        install_language("zh_CN")


def test_the_role_and_action_in_a_refusal_are_translated_too(qapp: QApplication) -> None:
    install_language("zh_CN")
    refusal = PermissionDenied(role=ROLE_LABELS[Role.CASHIER],
                               action=Action.REVEAL_PERSONAL_DATA.value)
    assert error_text(refusal) == "您的角色（收银员）无权查看完整个人信息。"
