"""Marking the core's words for translation, without Qt.

Some of the core's words reach the screen (the curated catalogue's facts, ...). They are marked
with `QT_TRANSLATE_NOOP(context, text)`, which returns `text` unchanged: Qt's lupdate reads calls
by that name and puts the text into the catalogues (`scripts/translations.py`). The UI translates
such a text where it shows it (`app.ui.translations.core_words(context)`); the command line shows
it as written.
"""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[[str], str]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate extracts
    """`text`, marked for translation in `context`."""
    del context  # read by lupdate, not at run time
    return text


def as_written(text: str) -> str:
    """The `Translate` of the command line: the English source."""
    return text
