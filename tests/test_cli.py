"""``pos-member``: bad arguments exit 2 with a message; refusals exit 1 and say why; the
commands that work change what they say and nothing else. The GUI smoke tests run the real
program in a subprocess, offscreen, on the real OS keyring."""

from __future__ import annotations

import base64
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from pos_member.crypto import KEYRING_SERVICE
from pos_member.db.engine import schema_version
from pos_member.db.store_name import peek_store_name
from pos_member.errors import StoreNotSetUp
from pos_member.rules_config import default_rules_path, load_rules
from pos_member_app.cli import main, till_main
from tests.factories import table_counts
from tests.keyring_check import require_os_keyring
from tests.keyrings import DictKeyring
from ui.i18n import error_text, install_language

DEFAULT_RULES = default_rules_path().read_text(encoding="utf-8")
DEFAULT_VERSION = load_rules(default_rules_path()).version


@pytest.fixture(autouse=True)
def own_platform_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config file or writes into their data folder."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))


UseKeyring = Callable[[KeyringBackend], KeyringBackend]


@pytest.fixture
def use_keyring() -> Iterator[UseKeyring]:
    previous = keyring.get_keyring()

    def use(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield use
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: UseKeyring) -> KeyringBackend:
    return use_keyring(DictKeyring())


def cli(*argv: object) -> int:
    return main([str(a) for a in argv])


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def rules_config(tmp_path: Path, rules: str) -> Path:
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(rules, encoding="utf-8")
    return write_config(tmp_path / "config.toml", f"rules_file = {str(rules_file)!r}\n")


def count(db: Path, table: str) -> int:
    con = sqlite3.connect(db)
    try:
        return con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
    finally:
        con.close()


# --- bad arguments: exit status 2 and a message -------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ([], "required: command"),
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["run", "--bogus"], "unrecognized arguments: --bogus"),
        (["demo", "--members", "-1"], "must not be negative: -1"),
        (["demo", "--members", "many"], "not a whole number: 'many'"),
        (["run", "--lang", "fr"], "invalid choice: 'fr'"),
        (["run", "--exit-after", "0"], "must be between 0 and 86400 seconds"),
        (["run", "--exit-after", "soon"], "not a number of seconds: 'soon'"),
        (["db"], "required: db_command"),
        (["db", "downgrade"], "invalid choice: 'downgrade'"),
        (["demo", "--members", "100000000000000000000"], "at most 1,000,000"),
        (["run", "--exit-after", "5", "--exit-when-ready"], "not allowed with argument"),
        (["db", "version", "--config", "/nonexistent/config.toml"], "no config file"),
        (["db", "version", "--config", "."], "not a file: ."),
        (["db", "upgrade", "--data-dir", "till\x00"], "not a path"),
        (["db", "restore", ""], "not a path"),
    ],
)
def test_bad_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert says in err
    assert "pos-member: error:" in err
    assert err.startswith("usage: pos-member")


def test_bad_arguments_create_nothing(tmp_path: Path) -> None:
    data = tmp_path / "till"
    with pytest.raises(SystemExit):
        cli("demo", "--data-dir", data, "--members", "-1", "--no-gui")
    assert not data.exists()


# --- the disk and the data folder: one line, exit 1, never a traceback -------------------------


def one_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("pos-member: ")
    return err


@pytest.mark.parametrize("command", [["db", "upgrade"], ["db", "backup"], ["api"], ["sync"],
                                     ["demo", "--no-gui", "--members", "0"]])
def test_a_data_folder_that_cannot_be_made_is_one_line_and_exit_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend,
        command: list[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert cli(*command, "--data-dir", tmp_path / "file" / "till") == 1
    one_line(capsys.readouterr().err)


@pytest.mark.parametrize("command", [["db", "version"], ["db", "upgrade"]])
def test_a_file_that_is_no_database_is_one_line_and_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    (tmp_path / "till.sqlite").write_bytes(b"a spreadsheet, say" * 100)
    assert cli(*command, "--data-dir", tmp_path) == 1
    assert "not a database" in one_line(capsys.readouterr().err)
    assert (tmp_path / "till.sqlite").read_bytes() == b"a spreadsheet, say" * 100


@pytest.mark.parametrize("command", [["db", "upgrade"], ["api"], ["sync"]])
def test_a_database_of_a_newer_version_says_so_and_is_left_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend,
        command: list[str]) -> None:
    """A till's database restored under an older program: Alembic's CommandError ("Can't
    locate revision") was all it said."""
    offline_enrolled_till(tmp_path)
    con = sqlite3.connect(tmp_path / "till.sqlite")
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    assert cli(*command, "--data-dir", tmp_path) == 1
    err = one_line(capsys.readouterr().err)
    assert "newer version of POS Member (schema 9999" in err and "details" not in err
    assert schema_version(tmp_path / "till.sqlite") == "9999"


@pytest.mark.parametrize("command", ["api", "sync", "close-day"])
def test_a_command_refused_for_no_store_creates_no_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str) -> None:
    data = tmp_path / "none"
    assert cli(command, "--data-dir", data) == 1
    assert "no store yet" in capsys.readouterr().err
    assert not data.exists() or not any(data.iterdir())


def test_the_demo_without_a_keyring_creates_no_database(
        tmp_path: Path, use_keyring: UseKeyring) -> None:
    use_keyring(fail.Keyring())
    assert cli("demo", "--no-gui", "--members", 0, "--data-dir", tmp_path / "demo") == 1
    assert not (tmp_path / "demo" / "till.sqlite").exists()


# --- db upgrade / db version --------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_prints_its_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "till"
    assert cli("db", "upgrade", "--data-dir", data) == 0
    db = data / "till.sqlite"
    version = schema_version(db)
    assert version
    assert capsys.readouterr().out.strip() == f"{db}: schema {version}"
    assert {"members", "events", "audit_log", "staff"} <= set(table_counts(db))


def test_db_upgrade_twice_is_fine_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("db", "upgrade", "--data-dir", tmp_path)
    first = capsys.readouterr().out
    counts = table_counts(tmp_path / "till.sqlite")
    assert cli("db", "upgrade", "--data-dir", tmp_path) == 0
    assert capsys.readouterr().out == first
    assert table_counts(tmp_path / "till.sqlite") == counts


def test_db_version_of_an_empty_folder_says_none_and_creates_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "empty"
    data.mkdir()
    assert cli("db", "version", "--data-dir", data) == 0
    assert capsys.readouterr().out.strip().endswith("schema none")
    assert list(data.iterdir()) == []


def test_db_version_prints_what_db_upgrade_applied(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli("db", "upgrade", "--data-dir", tmp_path)
    upgraded = capsys.readouterr().out
    assert cli("db", "version", "--data-dir", tmp_path) == 0
    assert capsys.readouterr().out == upgraded


# --- refusals: exit status 1 and why ------------------------------------------------------------


def test_run_without_a_store_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "empty"
    data.mkdir()
    assert cli("run", "--data-dir", data) == 1
    err = capsys.readouterr().err
    assert "no store" in err
    assert "pos-member demo" in err


def test_run_without_a_store_creates_no_store(tmp_path: Path) -> None:
    data = tmp_path / "empty"
    data.mkdir()
    cli("run", "--data-dir", data)
    db = data / "till.sqlite"
    assert peek_store_name(db) is None
    assert not db.exists() or count(db, "stores") == 0


def test_run_on_a_schema_without_a_store_exits_1(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cli("db", "upgrade", "--data-dir", tmp_path)
    assert cli("run", "--data-dir", tmp_path) == 1
    assert "no store" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("config", "names"),
    [
        ('colour = "blue"\n', "colour: unknown key"),
        ('language = "fr"\n', "language: must be one of zh_CN, en"),
        ("data_dir = 42\n", "data_dir: must be a path in quotes"),
        ("language = \n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_exits_1_naming_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], config: str, names: str
) -> None:
    cfg = write_config(tmp_path / "config.toml", config)
    data = tmp_path / "till"
    assert cli("run", "--config", cfg, "--data-dir", data) == 1
    err = capsys.readouterr().err
    assert "Configuration refused" in err
    assert names in err
    assert not data.exists()


def test_a_bad_rules_file_on_a_new_till_exits_1_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend
) -> None:
    cfg = rules_config(tmp_path, DEFAULT_RULES.replace("welcome_points = 100",
                                                       "welcome_points = -5"))
    data = tmp_path / "till"
    assert cli("demo", "--no-gui", "--members", 0, "--config", cfg, "--data-dir", data) == 1
    assert "Rules file refused: registration.welcome_points" in capsys.readouterr().err
    assert peek_store_name(data / "till.sqlite") is None


@pytest.fixture(scope="module")
def demo_made_once(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``pos-member demo --no-gui --members 0`` run once (its month of KPI history is ~1,300
    commits): the data folder and the keyring entries it wrote, for :func:`demo_store`."""
    root = tmp_path_factory.mktemp("demo-once")
    data = root / "demo"
    previous, made = keyring.get_keyring(), DictKeyring()
    with pytest.MonkeyPatch.context() as mp:  # as own_platform_dirs, which runs after this
        mp.setenv("XDG_CONFIG_HOME", str(root / "xdg-config"))
        mp.setenv("XDG_DATA_HOME", str(root / "xdg-data"))
        keyring.set_keyring(made)
        try:
            assert cli("demo", "--no-gui", "--members", 0, "--data-dir", data) == 0
        finally:
            keyring.set_keyring(previous)
    return data, dict(made.values)


@pytest.fixture
def demo_store(tmp_path: Path, memory_keyring: DictKeyring,
               demo_made_once: tuple[Path, dict], capsys: pytest.CaptureFixture[str]) -> Path:
    """A demo store without members, its data key in an in-process keyring: a copy of the
    one made once in this module, so each test changes its own."""
    made, keys = demo_made_once
    data = shutil.copytree(made, tmp_path / "demo")
    memory_keyring.values.update(keys)
    capsys.readouterr()
    return data


def test_a_bad_rules_file_is_refused_with_a_warning_naming_the_field(
    tmp_path: Path, demo_store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = rules_config(tmp_path, DEFAULT_RULES.replace("rate_limit_count = 30",
                                                       "rate_limit_count = 0"))
    assert cli("demo", "--no-gui", "--config", cfg, "--data-dir", demo_store) == 0
    err = capsys.readouterr().err
    assert "Rules file refused: registration.rate_limit_count" in err
    assert "keeping the last good rules" in err


def test_a_bad_rules_file_keeps_the_last_good_rules_in_force(
    tmp_path: Path, demo_store: Path
) -> None:
    bad = DEFAULT_RULES.replace('version = "2026.1"', 'version = "2099.1"').replace(
        "rate_limit_count = 30", "rate_limit_count = 0")
    cli("demo", "--no-gui", "--config", rules_config(tmp_path, bad), "--data-dir", demo_store)
    con = sqlite3.connect(demo_store / "till.sqlite")
    try:
        versions = [r[0] for r in con.execute("SELECT version FROM rules_versions")]
    finally:
        con.close()
    assert versions == [DEFAULT_VERSION]


def test_a_good_new_rules_file_takes_force(tmp_path: Path, demo_store: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    newer = DEFAULT_RULES.replace('version = "2026.1"', 'version = "2099.1"')
    assert cli("demo", "--no-gui", "--config", rules_config(tmp_path, newer),
               "--data-dir", demo_store) == 0
    assert "refused" not in capsys.readouterr().err
    assert count(demo_store / "till.sqlite", "rules_versions") == 2


def test_the_demo_without_a_keyring_exits_1_and_says_why(
    tmp_path: Path, use_keyring: UseKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    use_keyring(fail.Keyring())
    assert cli("demo", "--no-gui", "--members", 0, "--data-dir", tmp_path / "demo") == 1
    assert "credential store is not available" in capsys.readouterr().err


def test_the_demo_works_once_the_keyring_is_back(
    tmp_path: Path, use_keyring: UseKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "demo"
    use_keyring(fail.Keyring())
    cli("demo", "--no-gui", "--members", 0, "--data-dir", data)
    use_keyring(DictKeyring())
    assert cli("demo", "--no-gui", "--members", 0, "--data-dir", data) == 0
    assert peek_store_name(data / "till.sqlite") is not None


# --- the real program, offscreen, on the OS keyring ---------------------------------------------


# The console script the README runs; the module itself where no script is installed.
_SCRIPT = Path(sys.executable).with_name("pos-member")
POS_MEMBER = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "pos_member_app.cli"]


def run_program(*argv: object, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(home)}
    return subprocess.run([*POS_MEMBER, *map(str, argv)], capture_output=True, text=True,
                          env=env, timeout=180)


def forget_data_key(db: Path) -> None:
    """Removes the demo's data key from the OS keyring again: tests leave no secrets behind."""
    con = sqlite3.connect(db)
    try:
        row = con.execute("SELECT value FROM settings WHERE key = 'data_key_id'").fetchone()
    finally:
        con.close()
    if row:
        subprocess.run([sys.executable, "-c", "import keyring, sys; "
                        "keyring.delete_password(sys.argv[1], sys.argv[2])",
                        KEYRING_SERVICE, f"data-key:{row[0]}"], capture_output=True, timeout=60)


class Demo:
    def __init__(self, data: Path, first: subprocess.CompletedProcess[str]) -> None:
        self.data, self.first = data, first
        self.db = data / "till.sqlite"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """``pos-member demo`` run once on a fresh folder, offscreen, quitting once ready."""
    require_os_keyring()
    root = tmp_path_factory.mktemp("demo")
    data = root / "data"
    first = run_program("demo", "--data-dir", data, "--members", 30, "--exit-when-ready",
                        home=root)
    yield Demo(data, first)
    if (data / "till.sqlite").exists():
        forget_data_key(data / "till.sqlite")


@pytest.mark.keyring_real
def test_the_demo_starts_headless_and_shows_the_login_window(demo: Demo) -> None:
    assert demo.first.returncode == 0, demo.first.stderr
    assert "Login window shown" in demo.first.stdout


@pytest.mark.keyring_real
def test_the_demo_creates_the_store_and_prints_the_staff_pins(demo: Demo) -> None:
    out = demo.first.stdout
    assert f"Demo store created in {demo.data} with 30 members, and a month of" in out
    assert re.search(r"^\s+1001 / 135790\s+cashier\b", out, re.M)
    assert re.search(r"^\s+8001 / 802468\s+manager\b", out, re.M)
    assert count(demo.db, "members") > 30  # and the guides' month (the dashboard's demo)
    assert count(demo.db, "sales") > 0


@pytest.mark.keyring_real
def test_running_the_demo_again_creates_nothing_new(demo: Demo) -> None:
    counts = table_counts(demo.db)
    again = run_program("demo", "--data-dir", demo.data, "--members", 30, "--exit-when-ready",
                        home=demo.data.parent)
    assert again.returncode == 0, again.stderr
    assert "Demo store created" not in again.stdout
    assert "1001 / 135790" in again.stdout
    assert table_counts(demo.db) == counts


@pytest.mark.keyring_real
def test_run_opens_the_demo_store_with_its_key_from_the_os_keyring(demo: Demo) -> None:
    opened = run_program("run", "--data-dir", demo.data, "--exit-when-ready",
                         home=demo.data.parent)
    assert opened.returncode == 0, opened.stderr
    assert "Login window shown" in opened.stdout
    assert "Till ready." in opened.stdout


# --- enrol / sync / close-day -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["enrol", "--code", "ABC123"], "required: --server"),
        (["enrol", "--server", "http://hq"], "required: --code"),
        (["enrol", "--server", "hq.example.com", "--code", "ABC123"],
         "not an http(s) server address"),
        (["enrol", "--server", "http://hq", "--code", "AB"], "6 to 64 characters"),
        (["close-day", "--server", "ftp://hq"], "not an http(s) server address"),
        (["sync", "--timeout", "0"], "must be between 0 and 86400 seconds"),
        (["enrol", "--server", "http://[::1", "--code", "ABC123"], "check the brackets"),
        (["sync", "--server", "http://hq:99999"], "check the brackets and the port"),
    ],
)
def test_bad_sync_arguments_exit_2_with_a_clear_message(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert says in capsys.readouterr().err


def test_close_day_without_a_store_exits_1_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli("close-day", "--data-dir", tmp_path / "none") == 1
    assert "no store yet" in capsys.readouterr().err


def offline_enrolled_till(data: Path) -> None:
    """A till enrolled with a server that is not listening (a closed loopback port)."""
    import base64
    import socket

    from pos_member.bootstrap import bootstrap
    from pos_member.crypto import KeyringKeyStore
    from pos_member.services.enrolment import Enrolment
    from pos_member.services.members import register_member

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    keystore = KeyringKeyStore()
    app = bootstrap(data / "till.sqlite", keystore=keystore)
    ident = app.enrol(keystore, Enrolment(
        store_id="s-1", store_number=7, store_name="七号店", device_id="d-1", device_number=1,
        device_name="till", token="tok", data_key=base64.b64encode(bytes(64)).decode(),
        server_url=f"http://127.0.0.1:{port}"))
    register_member(app.uow, clerk=ident.system_clerk(), phone="13912345678",
                    privacy_consent=True)
    app.close()


def test_close_day_with_the_server_unreachable_prints_the_day_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend
) -> None:
    offline_enrolled_till(tmp_path)
    assert cli("close-day", "--data-dir", tmp_path, "--timeout", "2") == 1
    out = capsys.readouterr().out
    assert "Registrations: 1" in out
    assert "cannot be reached" in out
    assert "NOT closed" in out


def test_sync_with_the_server_unreachable_exits_1_and_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend
) -> None:
    offline_enrolled_till(tmp_path)
    assert cli("sync", "--data-dir", tmp_path, "--timeout", "2") == 1
    assert "cannot be reached" in capsys.readouterr().err


def test_enrol_again_with_the_server_unreachable_exits_1_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend
) -> None:
    """An enrolled till enrols again only after HQ has refused its token (tests/sync/
    test_restored_till.py); without an answer it cannot know, so nothing happens."""
    offline_enrolled_till(tmp_path)
    before = count(tmp_path / "till.sqlite", "events")
    assert cli("enrol", "--data-dir", tmp_path, "--server", "http://127.0.0.1:9",
               "--code", "ABC123", "--no-admin", "--timeout", "2") == 1
    assert "cannot be reached" in capsys.readouterr().err
    assert count(tmp_path / "till.sqlite", "events") == before


@pytest.mark.parametrize("folder", ["new", "existing"])
def test_a_first_enrolment_that_fails_leaves_no_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], memory_keyring: KeyringBackend,
    folder: str
) -> None:
    data = tmp_path / "till"
    if folder == "existing":
        data.mkdir()
    assert cli("enrol", "--data-dir", data, "--server", "http://127.0.0.1:9",
               "--code", "ABC123", "--no-admin", "--timeout", "2") == 1
    assert "cannot be reached" in capsys.readouterr().err
    assert (data.exists() and list(data.iterdir())) == ([] if folder == "existing" else False)


def test_chinese_output_redirected_on_a_western_code_page_is_utf8(tmp_path: Path) -> None:
    """A Windows till with code page 1252 writing ``… > out.txt``: stdout's encoding is then
    cp1252 (forced here with PYTHONIOENCODING); both programs write UTF-8 instead of failing."""
    kek = base64.b64encode(os.urandom(32)).decode()
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "POS_MEMBER_SERVER_KEK": kek}
    hq = ["--database", f"sqlite:///{tmp_path / 'hq.sqlite'}"]
    runs = (
        (["pos_member_app.cli", "db", "version", "--data-dir", str(tmp_path / "门店数据")],
         "门店数据"),
        (["sync.server.cli", *hq, "db", "upgrade"], "upgraded"),
        (["sync.server.cli", *hq, "create-store", "--number", "7", "--name", "七号店"], "七号店"),
    )
    for argv, expected in runs:
        out = tmp_path / "out.txt"
        with out.open("wb") as sink:
            done = subprocess.run([sys.executable, "-m", *argv], stdout=sink,
                                  stderr=subprocess.PIPE, env=env, timeout=120)
        assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
        assert expected in out.read_bytes().decode("utf-8")


def test_the_till_program_with_no_arguments_opens_the_till_or_says_why_in_a_window(
        qtbot: QtBot) -> None:
    """Double-clicked (no arguments), ``pos-member-till`` runs the till; on a machine with no
    store yet it says so in a window: it has no console to print on."""
    shown: list[tuple[str, str, str]] = []

    def answer_the_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_the_box)  # until the box is up
            return
        # the refusal in the language the box was shown in (the system's: no config here)
        shown.append((box.objectName(), box.text(), error_text(StoreNotSetUp())))
        box.accept()

    QTimer.singleShot(0, answer_the_box)
    try:
        assert till_main([]) == 1
    finally:
        install_language("zh_CN")
    ((name, text, refusal),) = shown
    assert name == "startRefusal" and text == refusal and "pos-member demo" in text


def test_the_till_program_says_a_failure_of_the_disk_in_a_window_too(
        qtbot: QtBot, tmp_path: Path) -> None:
    """The windowed program has no console: a failure that is no refusal of the core (here a
    till.sqlite that is no database) went only to a stderr nobody sees."""
    (tmp_path / "till.sqlite").write_bytes(b"a spreadsheet, say" * 100)
    shown: list[str] = []

    def answer_the_box() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer_the_box)
            return
        shown.append(box.text())
        box.accept()

    QTimer.singleShot(0, answer_the_box)
    try:
        assert till_main(["db", "version", "--data-dir", str(tmp_path)]) == 1
    finally:
        install_language("zh_CN")
    (text,) = shown
    assert "not a database" in text


def test_db_backup_and_restore_from_the_command_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "till"
    assert cli("db", "upgrade", "--data-dir", data) == 0
    assert cli("db", "backup", "--data-dir", data, "--to", tmp_path / "copies") == 0
    (made,) = (tmp_path / "copies").glob("till-*.sqlite")
    assert f"Backup made: {made}" in capsys.readouterr().out

    not_a_db = tmp_path / "notes.sqlite"
    not_a_db.write_text("not a database", encoding="utf-8")
    before = (data / "till.sqlite").read_bytes()
    assert cli("db", "restore", "--data-dir", data, not_a_db) == 1
    assert "not a till database" in capsys.readouterr().err
    assert (data / "till.sqlite").read_bytes() == before
    assert not list(data.glob("*.before-restore-*"))

    assert cli("db", "restore", "--data-dir", data, made) == 0
    out = capsys.readouterr().out
    assert f"Restored {data / 'till.sqlite'} from {made}." in out
    (aside,) = data.glob("till.sqlite.before-restore-*")
    assert f"kept as {aside}" in out
