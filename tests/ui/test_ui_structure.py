"""The ui package's shape: no import circles, features reach the till window only through its
public face (ui.host.TillHost), and nobody reaches into another object's private members."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QPushButton

from pos_member.permissions import Clerk
from tests.factories import Till
from ui.host import TillAction, TillHost
from ui.till import FEATURES, TillWindow

UI = Path(__file__).resolve().parents[2] / "ui"


def ui_imports() -> dict[str, set[str]]:
    """Module → the ui modules it imports: every import, at the top, inside a function or
    under ``TYPE_CHECKING`` alike (a circle of type-only imports is still a circle to read)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(UI.glob("*.py")):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "ui":
                deps |= {f"ui.{a.name}" for a in node.names}
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("ui."):
                deps.add(node.module or "")
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("ui.")}
        graph[f"ui.{path.stem}"] = deps
    return graph


def cycle_in(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle (its modules in order), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                return [*path[path.index(dep):], dep]
            if dep not in state and (found := visit(dep)) is not None:
                return found
        path.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)) is not None:
            return found
    return None


def test_the_cycle_finder_finds_a_circle() -> None:
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle_in({"a": {"b"}, "b": {"c"}, "c": set()}) is None


def test_no_ui_modules_import_each_other_in_a_circle() -> None:
    graph = ui_imports()
    assert "ui.till" in graph["ui.app"] and "ui.host" in graph["ui.till_points"]  # it reads
    assert cycle_in(graph) is None


def test_only_the_controller_imports_the_till_window() -> None:
    importers = sorted(m for m, deps in ui_imports().items() if "ui.till" in deps)
    assert importers == ["ui.app"]


def private_reaches(source: str) -> list[str]:
    """``x._name`` where ``x`` is not ``self``/``cls``: another object's private member."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__") \
                and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            found.append(f"{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_private_member_check_sees_a_reach() -> None:
    assert private_reaches("self.w._open_dialog(d)\nwindow._changed()\nself._ok()\n") == [
        "1: self.w._open_dialog", "2: window._changed"]


def test_no_ui_module_reaches_into_another_objects_private_members() -> None:
    reaches = {path.name: found for path in sorted(UI.glob("*.py"))
               if (found := private_reaches(path.read_text(encoding="utf-8")))}
    assert reaches == {}


def test_every_feature_plugs_in_through_one_register_function() -> None:
    names = sorted(f.__module__ for f in FEATURES)
    assert names == ["ui.till_alerts", "ui.till_camera", "ui.till_closing", "ui.till_coupons",
                     "ui.till_insight",
                     "ui.till_integration",
                     "ui.till_kpi",
                     "ui.till_member", "ui.till_member_service", "ui.till_points",
                     "ui.till_remote_member",
                     "ui.till_scan_image", "ui.till_serial",
                     "ui.till_staff", "ui.till_stored_value"]
    assert all(f.__name__ == "register" for f in FEATURES)


def test_the_buttons_keep_their_places(open_till: Callable[[Clerk], TillWindow],
                                       till: Till) -> None:
    window = open_till(till.manager)
    rows = []
    for r in range(window.actions_bar.count()):
        line = window.actions_bar.itemAt(r).layout()
        rows.append([line.itemAt(i).widget().objectName() for i in range(line.count())
                     if isinstance(line.itemAt(i).widget(), QPushButton)])
    assert rows == [
        ["action_register", "action_sale", "action_refund", "action_ledger", "action_gifts",
         "action_topup", "action_pay", "action_sv_ledger"],
        ["action_reveal", "action_edit", "action_print", "action_purchases", "action_adjust",
         "action_service"],
        ["action_alerts", "action_staff", "action_dashboard", "action_close_day",
         "action_decode_image", "action_logout"],
    ]


def test_the_till_window_is_a_till_host(open_till: Callable[[Clerk], TillWindow],
                                        till: Till) -> None:
    assert isinstance(open_till(till.cashier), TillHost)


def test_an_action_key_is_taken_once(open_till: Callable[[Clerk], TillWindow],
                                     till: Till) -> None:
    window = open_till(till.cashier)
    with pytest.raises(ValueError, match="sale"):
        window.add_action(TillAction("sale", "F4 Sale", lambda: None))
