"""Camera scanning, where a camera and QtMultimedia exist: frames from the default camera go to
:class:`ui.camera_frames.FrameDecoder` and the codes it finds are routed like a scan.

QtMultimedia is in PySide6-Addons, which the till does not depend on and the bundle does not
carry (docs/rules.md, "Scanning"): without it, or without a camera, this feature does nothing
and the till works as before. Plugs into the till window through :func:`register`.
"""

from __future__ import annotations

import importlib
import logging
from types import ModuleType

from ui.camera_frames import FrameDecoder
from ui.host import TillHost

log = logging.getLogger(__name__)


def multimedia() -> ModuleType | None:
    """PySide6.QtMultimedia when installed (PySide6-Addons), else None."""
    try:
        return importlib.import_module("PySide6.QtMultimedia")
    except ImportError:
        return None


def register(host: TillHost) -> None:
    qtmm = multimedia()
    if qtmm is None:
        log.info("no camera scanning: QtMultimedia (PySide6-Addons) is not installed")
        return
    device = qtmm.QMediaDevices.defaultVideoInput()
    if device.isNull():
        log.info("no camera scanning: no camera found")
        return
    decoder = FrameDecoder(host.scan_code, host.window())
    camera = qtmm.QCamera(device, host.window())
    session = qtmm.QMediaCaptureSession(host.window())
    sink = qtmm.QVideoSink(host.window())
    session.setCamera(camera)
    session.setVideoSink(sink)
    sink.videoFrameChanged.connect(lambda frame: decoder.feed(frame.toImage()))
    camera.errorOccurred.connect(
        lambda *_: log.warning("camera stopped: %s", camera.errorString()))
    host.on_start(camera.start)
    host.on_stop(lambda: (camera.stop(), decoder.wait(3000)))
