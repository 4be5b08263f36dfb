"""Translations: our ``.qm`` plus Qt's own (standard buttons), chosen by config or system locale."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from pos_member.errors import DomainError
from pos_member.resources import resource_path

_installed: list[QTranslator] = []


def pick_language(configured: str | None) -> str:
    if configured:
        return configured
    return "zh_CN" if QLocale.system().language() == QLocale.Language.Chinese else "en"


def install_language(language: str) -> None:
    """Replaces the installed translators; widgets get a LanguageChange event and retranslate."""
    app = QCoreApplication.instance()
    for t in _installed:
        app.removeTranslator(t)
    _installed.clear()
    if language == "en":
        return
    ours = QTranslator()
    if ours.load(str(resource_path("i18n", f"pos_member_{language}.qm"))):
        app.installTranslator(ours)
        _installed.append(ours)
    qt = QTranslator()
    if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
        _installed.append(qt)


def translate(context: str, text: str) -> str:
    return QCoreApplication.translate(context, text)


def error_text(error: DomainError) -> str:
    """The user's-language message of a domain error, with its parameters filled in."""
    params = {
        k: translate("roles", v) if isinstance(v, str) else v for k, v in error.params.items()
    }
    return translate("errors", error.message).format(**params)
