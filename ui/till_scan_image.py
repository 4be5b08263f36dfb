"""Support staff's "decode an image file" (Ctrl+O): a picture of a member's code (a screenshot
sent by the member, a photo) is decoded off the GUI thread and its code routed like a scan.
Plugs into the till window through :func:`register`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QStandardPaths
from PySide6.QtWidgets import QFileDialog

from pos_member.i18n import QT_TRANSLATE_NOOP
from ui.code_reader import IMAGE_SUFFIXES, code_in_file
from ui.host import TillAction, TillHost


def open_image(host: TillHost) -> None:
    """A file dialog, window-modal and non-blocking like every till dialog; the chosen file is
    decoded when it closes."""
    if host.dialog is not None:
        return
    start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.PicturesLocation)
    if not Path(start).is_dir():  # else the dialog offers the missing folder as a file name
        start = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.HomeLocation)
    patterns = " ".join(f"*.{s}" for s in IMAGE_SUFFIXES)
    dialog = QFileDialog(
        host.window(), QCoreApplication.translate("ScanImage", "Decode a code from a picture"),
        start, QCoreApplication.translate("ScanImage", "Pictures (%1)").replace("%1", patterns))
    dialog.setObjectName("decodeImageDialog")
    dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
    dialog.fileSelected.connect(lambda name: decode(host, Path(name)))
    host.open_dialog(dialog)


def decode(host: TillHost, path: Path) -> None:
    """The picture's code, routed like a scan (or a clear message, nothing changed)."""
    host.ops.run(lambda: code_in_file(path), host.scan_code)


def register(host: TillHost) -> None:
    label = QT_TRANSLATE_NOOP("TillWindow", "Ctrl+O Decode image")
    host.add_action(TillAction("decode_image", label, lambda: open_image(host), ("Ctrl+O",)))
