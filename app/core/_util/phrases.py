"""Sentences the core writes for people, in English, translated where they are shown.

The core is plain Python and never calls Qt's translator, yet what it explains (why a file was
picked) is shown in the window in the person's language. So the core returns a `Phrase`: an
English template marked for translation and the values to fill in. The command line prints it
as it is (`str(phrase)`); the UI renders it with Qt's translator (`Phrase.render`).

Templates are marked with `QT_TRANSLATE_NOOP(context, text)`: `pyside6-lupdate` finds the call
by its name, in the core as in the UI, and puts the text in the `.ts` files under `context`.
A template is a whole sentence with named fields (`{used}`); a value may itself be a phrase (a
quality band inside the summary), rendered in the same language first. A number and its unit
inside a template are joined by a no-break space, written `\\u00a0` (lupdate reads that escape).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

# (context, English text) -> the text in the person's language.
Translate = Callable[[str, str], str]


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate looks for
    """Mark `text` for translation under `context`; returns it unchanged."""
    del context  # read by pyside6-lupdate in the source, not at run time
    return text


def untranslated(_context: str, text: str) -> str:
    return text


@dataclass(frozen=True)
class Phrase:
    """A sentence for a person: an English template marked for translation, and its values."""

    context: str
    template: str
    values: tuple[tuple[str, object], ...] = ()

    def render(self, translate: Translate = untranslated) -> str:
        """The sentence in the language `translate` gives, with its values filled in. A
        translation that names a field the template doesn't have falls back to the English."""
        values = {
            name: value.render(translate) if isinstance(value, Phrase) else value
            for name, value in self.values
        }
        try:
            return translate(self.context, self.template).format(**values)
        except (KeyError, IndexError, ValueError):
            return self.template.format(**values)

    def __str__(self) -> str:
        return self.render()
