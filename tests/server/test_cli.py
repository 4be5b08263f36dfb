"""``pos-member-server``: HQ's commands. Bad arguments exit 2, refusals exit 1."""

from __future__ import annotations

from pathlib import Path

import pytest

from pos_member.rules_config import default_rules_path
from sync.server.cli import main


@pytest.fixture
def db_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'server.sqlite'}"
    monkeypatch.setenv("POS_MEMBER_SERVER_DB", url)
    return url


def test_hq_sets_up_a_store_and_issues_a_code(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert main(["create-store", "--number", "7", "--name", "七号店"]) == 0
    capsys.readouterr()
    assert main(["issue-code", "--store", "7"]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 10 and code.isalnum()


def test_commands_refuse_a_database_that_is_not_upgraded(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["list-flags"]) == 1
    assert "db upgrade" in capsys.readouterr().err


def test_a_code_for_an_unknown_store_is_refused(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["db", "upgrade"])
    capsys.readouterr()
    assert main(["issue-code", "--store", "3"]) == 1
    assert "No store number 3" in capsys.readouterr().err
    assert main(["list-devices", "--store", "3"]) == 1
    refused = capsys.readouterr()
    assert "No store number 3" in refused.err and refused.out == ""  # no listing's header


def test_a_store_name_with_a_control_character_is_refused(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store's name reaches every till's screen and HQ's listings (a terminal: an escape
    sequence would act on the operator's console): refused like an empty one, nothing made."""
    from pos_member.spreadsheet import tsv_field

    main(["db", "upgrade"])
    for name in ("七号\x1b[2J店", "七号\n店"):
        assert main(["create-store", "--number", "7", "--name", name]) == 1
        assert "store name" in capsys.readouterr().err
    assert main(["list-stores"]) == 0
    assert capsys.readouterr().out == ""
    assert tsv_field("甲\x1b]0;x\x07乙\u2028") == "甲 ]0;x 乙 "  # what a till sent, flattened


def test_bad_arguments_exit_2(db_url: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["create-store", "--number", "x", "--name", "a"])
    assert exit_.value.code == 2


def test_rules_are_published_once(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    assert main(["publish-rules", str(default_rules_path())]) == 0
    assert main(["publish-rules", str(default_rules_path())]) == 1
    assert "published before" in capsys.readouterr().err


def test_rules_saved_with_a_bom_are_the_same_text(db_url: str, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A rules file re-saved by Notepad ("UTF-8 with BOM") is the text published before."""
    main(["db", "upgrade"])
    with_bom = tmp_path / "rules.toml"
    with_bom.write_text(default_rules_path().read_text(encoding="utf-8"), encoding="utf-8-sig")
    assert main(["publish-rules", str(with_bom)]) == 0
    assert main(["publish-rules", str(default_rules_path())]) == 1
    assert "published before" in capsys.readouterr().err


def test_revoking_an_unknown_device_is_refused(db_url: str) -> None:
    main(["db", "upgrade"])
    assert main(["revoke-device", "--device", "nope"]) == 1


def test_an_unreachable_database_is_a_refusal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database", "postgresql+psycopg://x@127.0.0.1:1/db", "list-flags"]) == 1
    assert "cannot use the database" in capsys.readouterr().err


def test_hq_sets_a_stores_monthly_target(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    main(["create-store", "--number", "7", "--name", "七号店"])
    assert main(["set-target", "--store", "7", "--month", "2026-12", "--target", "540"]) == 0
    assert "540 new members" in capsys.readouterr().out
    assert main(["set-target", "--store", "7", "--month", "2026-12", "--target", "-1"]) == 1
    assert main(["set-target", "--store", "8", "--month", "2026-12", "--target", "5"]) == 1


def test_serve_refuses_a_read_url_for_a_sqlite_database(
    db_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    replica = "postgresql+psycopg://hq@127.0.0.1:1/chain"
    assert main(["serve", "--read-database-url", replica]) == 1
    assert "read URL" in capsys.readouterr().err
    monkeypatch.setenv("POS_MEMBER_SERVER_READ_URL", replica)
    assert main(["serve"]) == 1  # from the environment too, before migrating or serving
    assert "read URL" in capsys.readouterr().err


def test_hq_staff_commands_refuse_an_unknown_store_or_number_and_write_nothing(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    main(["db", "upgrade"])
    main(["create-store", "--number", "7", "--name", "七号店"])
    capsys.readouterr()
    assert main(["list-staff", "--store", "7"]) == 0
    assert capsys.readouterr().out == ""  # no staff yet
    assert main(["list-staff", "--store", "8"]) == 1
    assert "No store number 8" in capsys.readouterr().err
    assert main(["deactivate-staff", "--store", "7", "--code", "001"]) == 1
    assert "No active staff number 001 in store 7" in capsys.readouterr().err
    con = sqlite3.connect(db_url.removeprefix("sqlite:///"))
    try:
        assert con.execute("SELECT count(*) FROM events").fetchone() == (0,)
    finally:
        con.close()
    with pytest.raises(SystemExit) as exit_:
        main(["deactivate-staff", "--store", "7"])  # no --code
    assert exit_.value.code == 2


def one_line(err: str) -> str:
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith("pos-member-server: ")
    return err


@pytest.mark.parametrize("command", [
    ["export-members", "{folder}"], ["export-members", "{folder}/none/members.xlsx"],
    ["import-members", "{folder}", "--store", "1"],
    ["import-members", "{folder}/none.xlsx", "--store", "1"],
    ["import-template", "{folder}/none/template.xlsx"],
    ["health-report", "--from", "2026-01-01", "--to", "2026-01-31", "--xlsx", "{folder}"],
])
def test_a_file_argument_that_cannot_be_used_is_one_line_and_exit_1(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        command: list[str]) -> None:
    main(["db", "upgrade"])
    main(["publish-rules", str(default_rules_path())])
    capsys.readouterr()
    folder = tmp_path / "reports"
    folder.mkdir()
    assert main([a.format(folder=folder) for a in command]) == 1
    assert str(folder) in one_line(capsys.readouterr().err)
    assert [p.name for p in folder.iterdir()] == []  # nothing written (none/ neither)


def test_a_database_file_that_is_no_database_is_one_line(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "hq.sqlite").write_text("not a database")
    assert main(["--database", f"sqlite:///{tmp_path / 'hq.sqlite'}", "db", "upgrade"]) == 1
    assert "not a database" in one_line(capsys.readouterr().err)


def test_a_health_report_from_year_1_starts_in_2000(
        db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    main(["db", "upgrade"])
    main(["publish-rules", str(default_rules_path())])
    capsys.readouterr()
    assert main(["health-report", "--from", "0001-01-01", "--to", "2026-01-31"]) == 0
    assert capsys.readouterr().out.startswith("programme health 2000-01-01..2026-01-31")


@pytest.mark.parametrize("command", [
    ["issue-code", "--store", "99999999999999999999"],
    ["list-staff", "--store", "99999999999999999999"],
    ["import-members", "members.xlsx", "--store", "99999999999999999999"],
    ["issue-coupons", "CPN-10", "--reason", "x", "--limit", "99999999999999999999"],
])
def test_a_number_no_database_holds_is_a_bad_argument(
        db_url: str, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """It reached SQLite as an OverflowError (issue-code, list-staff)."""
    with pytest.raises(SystemExit) as exit_:
        main(command)
    assert exit_.value.code == 2 and "too large" in capsys.readouterr().err


def test_a_database_a_newer_server_migrated_is_refused_saying_so(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The program rolled back under its database: Alembic's traceback ("Can't locate
    revision") on db upgrade and serve, and "run db upgrade" from the other commands."""
    import sqlite3

    main(["db", "upgrade"])
    con = sqlite3.connect(tmp_path / "server.sqlite")
    con.execute("UPDATE alembic_version SET version_num = '9999'")
    con.commit()
    con.close()
    capsys.readouterr()
    for command in (["db", "upgrade"], ["list-stores"]):
        assert main(command) == 1
        assert "schema 9999, newer than this program's" in one_line(capsys.readouterr().err)


def test_import_members_refuses_a_report_that_is_the_file_being_imported(
        db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """However spelt (another path, a link): the report would have overwritten the input."""
    main(["db", "upgrade"])
    main(["create-store", "--number", "1", "--name", "一号店"])
    book = tmp_path / "members.xlsx"
    main(["import-template", str(book)])
    (tmp_path / "link.xlsx").symlink_to(book)
    (tmp_path / "sub").mkdir()
    before = book.read_bytes()
    capsys.readouterr()
    for report in (book, tmp_path / "sub" / ".." / "members.xlsx", tmp_path / "link.xlsx"):
        assert main(["import-members", str(book), "--store", "1", "--report", str(report)]) == 2
        assert "is the file being imported" in one_line(capsys.readouterr().err)
    assert book.read_bytes() == before
    assert not [p for p in tmp_path.rglob("*report*")]
