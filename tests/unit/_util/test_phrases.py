"""Core sentences: English as written, or in the person's language through the translator given."""

from __future__ import annotations

from app.core._util.phrases import QT_TRANSLATE_NOOP, Phrase

INNER = Phrase("Ctx", QT_TRANSLATE_NOOP("Ctx", "Good quality"))
OUTER = Phrase("Ctx", "{quality}: uses {used}.", (("quality", INNER), ("used", "1.0\u00a0GiB")))


def test_a_phrase_reads_as_its_english_sentence() -> None:
    assert str(OUTER) == "Good quality: uses 1.0\u00a0GiB."


def test_a_phrase_and_the_phrases_inside_it_are_translated() -> None:
    table = {"Good quality": "质量好", "{quality}: uses {used}.": "{quality}：占用 {used}。"}
    seen: list[str] = []

    def translate(context: str, text: str) -> str:
        seen.append(context)
        return table.get(text, text)

    assert OUTER.render(translate) == "质量好：占用 1.0\u00a0GiB。"
    assert seen == ["Ctx", "Ctx"]


def test_a_broken_translation_falls_back_to_english() -> None:
    def translate(_context: str, text: str) -> str:
        return "{qualität}: {used}" if text.startswith("{quality}") else text

    assert OUTER.render(translate) == "Good quality: uses 1.0\u00a0GiB."
