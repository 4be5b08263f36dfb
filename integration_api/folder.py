"""The watched folder: for a POS that can only write files, one sale or refund per file.

The contract (docs/integration.md): write the file under a temporary name — anything not
ending in ``.json`` or ``.csv``, or starting with a dot — then rename it to its final
``*.json`` / ``*.csv`` name in the same folder. A rename is atomic, so the till only ever
sees whole files; a half-written file under its temporary name is never read.

Each file is applied through the same services as the API (idempotent by the POS's
transaction id: a file seen twice, or applied before a crash and seen again, applies once),
then moved to ``done/``, or to ``rejected/`` with ``<name>.reason.txt`` beside it. A failure
that is the till's and not the file's (the disk full, the database busy) leaves the file
where it is, to be tried at the next scan. Polling (every ``interval`` seconds, on its own
thread) needs no file-system notification API, which network shares do not always give.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from integration_api.files import MAX_FILE, read_report
from pos_member.db.uow import UnitOfWork
from pos_member.errors import DomainError, KeyStoreUnavailable, StorageFull
from pos_member.integration import reports
from pos_member.integration.errors import error_code
from pos_member.permissions import Clerk

log = logging.getLogger(__name__)

DONE, REJECTED = "done", "rejected"
SUFFIXES = (".json", ".csv")
_TRANSIENT = (StorageFull, KeyStoreUnavailable)


@dataclass(frozen=True, slots=True)
class FileOutcome:
    name: str
    applied: bool  # False: rejected
    repeated: bool = False  # applied before (the same transaction seen again)
    reason: str | None = None  # the rejection's ``error: message``


def ready_files(inbox: Path) -> list[Path]:
    """The files under their final names, oldest name first (POS names usually sort by time)."""
    try:
        entries = list(os.scandir(inbox))
    except FileNotFoundError:
        return []
    return sorted((Path(e.path) for e in entries
                   if e.is_file() and not e.name.startswith(".")
                   and e.name.lower().endswith(SUFFIXES)), key=lambda p: p.name)


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name`` with ``.2``, ``.3`` … before its suffix when taken (a POS
    that reuses file names keeps every file)."""
    target = folder / name
    stem, dot, suffix = name.rpartition(".")
    n = 2
    while target.exists() or (folder / f"{target.name}.reason.txt").exists():
        target = folder / f"{stem}.{n}{dot}{suffix}"
        n += 1
    return target


class FolderWatcher:
    def __init__(self, inbox: Path, *, uow: UnitOfWork, clerk: Clerk,
                 interval: float = 1.0) -> None:
        self.inbox, self.uow, self.clerk, self.interval = inbox, uow, clerk, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scan_once(self) -> list[FileOutcome]:
        """Applies every ready file once; what became of each (transient failures left out:
        those files stay for the next scan)."""
        out: list[FileOutcome] = []
        for path in ready_files(self.inbox):
            if self._stop.is_set():
                break
            try:
                done = self.apply_file(path)
            except Exception:  # a bug: this file stays, the others still go
                log.exception("watched folder: %s stays (unexpected failure)", path.name)
                continue
            if done is not None:
                out.append(done)
        return out

    def _unsafe_folder(self) -> str | None:
        """``done`` or ``rejected`` when it is a link or not a folder: whoever can write the
        drop folder could point it anywhere the till's user may write, and the till would
        move the POS's files (and write reasons) there. Nothing is read while one is."""
        for where in (DONE, REJECTED):
            folder = self.inbox / where
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                return where
        return None

    def apply_file(self, path: Path) -> FileOutcome | None:
        unsafe = self._unsafe_folder()
        if unsafe is not None:
            log.warning("watched folder: %s/ is a link or not a folder: %s stays (make it a "
                        "plain folder)", unsafe, path.name)
            return None
        try:
            with path.open("rb") as f:  # never more than the limit into memory
                data = f.read(MAX_FILE + 1)
        except FileNotFoundError:
            return None  # taken away meanwhile
        try:
            report = read_report(path.name, data)
            if isinstance(report, reports.SaleReport):
                repeated = reports.report_sale(self.uow, self.clerk, report,
                                               source="folder").sale.repeated
            else:
                repeated = reports.report_refund(self.uow, self.clerk, report,
                                                 source="folder").refund.repeated
        except _TRANSIENT as e:
            log.warning("watched folder: %s stays for the next scan (%s)", path.name,
                        type(e).__name__)
            return None
        except DomainError as e:
            reason = f"{error_code(e)}: {e.text()}"
            self._move(path, REJECTED, reason)
            return FileOutcome(path.name, False, reason=reason)
        self._move(path, DONE, None)
        return FileOutcome(path.name, True, repeated)

    def _move(self, path: Path, where: str, reason: str | None) -> None:
        folder = self.inbox / where
        folder.mkdir(exist_ok=True)
        target = _free_name(folder, path.name)
        if reason is not None:  # the reason first: whoever sees the file finds why
            note = folder / f"{target.name}.reason.txt"
            tmp = folder / f".{note.name}.tmp"
            tmp.write_text(reason + "\n", encoding="utf-8")
            os.replace(tmp, note)
        os.replace(path, target)

    # -- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="watched-folder", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.scan_once()
            except Exception:  # a bug or the disk: keep watching, say so once per scan
                log.exception("watched folder: scan failed")
            self._stop.wait(self.interval)

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
