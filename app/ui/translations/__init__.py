"""The app in the person's language.

Two catalogues are loaded for a language: ours, `quantdesk_<locale>.qm` beside this file
(compiled from `quantdesk_<locale>.ts` by `scripts/translations.py`, which also re-extracts the
`.ts` from the code), and Qt's own `qtbase_<locale>.qm` (the words in Qt's standard dialogs and
context menus: "Cancel", "Copy", "Open"), which PySide6 ships under `Qt/translations`.

The language is the person's choice in Settings ("system", "en", "zh_CN"), read at start;
`QUANTDESK_LANGUAGE` overrides it (screenshots, tests). "system" follows the OS's UI languages
and falls back to English, the language of the source strings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)

LANGUAGE_ENV = "QUANTDESK_LANGUAGE"
CATALOGUE = "quantdesk"
TRANSLATIONS_DIR = Path(__file__).resolve().parent

# Installed translators: Qt keeps only a pointer, so they must stay referenced while installed.
_installed: list[QTranslator] = []


def chosen_language(preference: str) -> str:
    """The language to show: `QUANTDESK_LANGUAGE` when set, else the person's preference."""
    return forced_language() or preference


def forced_language() -> str | None:
    """The language `QUANTDESK_LANGUAGE` sets for this run, as written; None when it is not
    set (Settings says so: the person's choice then waits for a run without it)."""
    return os.environ.get(LANGUAGE_ENV, "").strip() or None


def locale_for(language: str) -> QLocale | None:
    """The locale whose catalogues to load for `language`; None for English (the source)."""
    if language == "en" or language.startswith("en_"):
        return None
    if language == "system":
        return QLocale.system()
    return QLocale(language)


def qt_translations_dirs() -> list[Path]:
    """Where Qt's own catalogues are: Qt's configured path, then PySide6's folder (a frozen
    bundle carries them there even when Qt's configured prefix doesn't point at it)."""
    import PySide6

    configured = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath))
    shipped = Path(PySide6.__file__).resolve().parent / "Qt" / "translations"
    return [configured, shipped] if configured != shipped else [configured]


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Show `app` in `language` ("system", "en", "zh_CN", ...), replacing the translators a
    previous call installed; returns those now installed (none for English, or for a language
    we have no catalogue for). Widgets built afterwards are translated; call before building
    the window."""
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    locale = locale_for(language)
    if locale is None:
        return []
    ours = QTranslator(app)
    if not ours.load(locale, CATALOGUE, "_", str(TRANSLATIONS_DIR)):
        log.info("no translation language=%s ui_languages=%s", language, locale.uiLanguages())
        return []
    _installed.append(ours)
    qt_own = QTranslator(app)
    for folder in qt_translations_dirs():
        if qt_own.load(locale, "qtbase", "_", str(folder)):
            _installed.append(qt_own)
            break
    else:
        log.info("no Qt translation language=%s", language)
    for translator in _installed:
        app.installTranslator(translator)
    log.info("translation language=%s catalogues=%s", language, [t.filePath() for t in _installed])
    return list(_installed)


def current_language() -> str:
    """The language the app shows now ("zh_CN", ...), "en" when no catalogue is installed."""
    return _installed[0].language() if _installed else "en"


def content_language() -> str:
    """The language key of shipped content with texts per language (the curated catalogue's
    summaries: "en", "zh"), matching what the app shows."""
    return "zh" if current_language().startswith("zh") else "en"


def core_words(context: str) -> Callable[[str], str]:
    """Translates the core's words marked with `QT_TRANSLATE_NOOP(context, …)`
    (app/core/_util/translation.py) into the app's language."""
    return lambda text: QCoreApplication.translate(context, text)
