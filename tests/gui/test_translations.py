"""Translations for real: the catalogues match the code, every string has its Simplified Chinese,
and a person who picks 简体中文 sees no English sentence on any main page, menu or wizard page."""

from __future__ import annotations

import html
import importlib.util
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtCore import QCoreApplication, QLocale, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTabWidget,
    QTextEdit,
    QWidget,
    QWizard,
    QWizardPage,
)
from pytestqt.qtbot import QtBot

from app.core.config.preferences import Preferences, load_preferences, save_preferences
from app.core.paths import app_paths
from app.ui.main_window import MainWindow
from app.ui.session import Session
from app.ui.setup.wizard import FirstRunWizard
from app.ui.translations import LANGUAGE_ENV, TRANSLATIONS_DIR, chosen_language, install_translators
from tests.gui.setup.test_wizard import FILE, MACHINE, REPO, click_next
from tests.localhub import LocalHub, seed_repos

ROOT = Path(__file__).resolve().parents[2]


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "translations_script", ROOT / "scripts" / "translations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


script = _load_script()


# --- the catalogues ------------------------------------------------------------------------------


def test_the_catalogues_match_the_code_and_every_string_is_translated() -> None:
    """Re-extracting changes nothing (no string in the code is missing from the .ts, none is
    left over), no zh_CN entry is unfinished, empty or drops a placeholder, and the shipped .qm
    is what the .ts compiles to. Fix: `python scripts/translations.py`, then translate."""
    assert script.problems("zh_CN") == []


def test_the_check_finds_a_string_missing_from_the_catalogue(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check above can fail: a new `tr()` string in the code, or an untranslated entry, is
    named."""
    sources = tmp_path / "app"
    sources.mkdir()
    (sources / "page.py").write_text(
        "from PySide6.QtWidgets import QWidget\n\n"
        "class Page(QWidget):\n"
        "    def build(self):\n"
        "        return self.tr('Send'), self.tr('A brand-new sentence nobody translated')\n",
        encoding="utf-8",
    )
    catalogues = tmp_path / "translations"
    catalogues.mkdir()
    monkeypatch.setattr(script, "ROOT", tmp_path)
    monkeypatch.setattr(script, "SOURCES", sources)
    monkeypatch.setattr(script, "TRANSLATIONS", catalogues)
    ts = script.ts_file("zh_CN")
    ts.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE TS>\n<TS version="2.1" language="zh_CN">\n'
        "<context>\n    <name>Page</name>\n    <message>\n        <source>Send</source>\n"
        "        <translation>发送</translation>\n    </message>\n</context>\n</TS>\n",
        encoding="utf-8",
    )
    found = script.problems("zh_CN")
    assert any("A brand-new sentence nobody translated" in problem for problem in found)
    assert any(".qm is older" in problem for problem in found)

    script.main([])  # re-extract and compile: the new string is in, waiting for its translation
    found = script.problems("zh_CN")
    assert found == ["not translated (unfinished): Page: 'A brand-new sentence nobody translated'"]


def test_placeholders_must_survive_translation() -> None:
    entry = script.Entry("Ctx", "Downloaded {name} in %1", ("已下载 {name}",), "")
    assert script._entry_problems(entry)
    assert not script._entry_problems(script.Entry("Ctx", "{name} in %1", ("%1 中的 {name}",), ""))


# --- the language at start -----------------------------------------------------------------------


@pytest.fixture
def translated(qapp: QApplication) -> Iterator[None]:
    """The app in Simplified Chinese for one test, English again afterwards."""
    assert install_translators(qapp, "zh_CN")
    yield
    install_translators(qapp, "en")


def test_the_language_chosen_in_settings_applies_at_the_next_start(
    qtbot: QtBot, qapp: QApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LANGUAGE_ENV, raising=False)
    paths = app_paths().ensure()
    save_preferences(paths.config, Preferences(first_run_done=True))
    window = MainWindow(Session(paths))
    qtbot.addWidget(window)
    page = window.settings_page
    window.pages.setCurrentWidget(page)
    window.show()
    assert page.language_combo.currentData() == "system"
    assert not page.language_note.isVisible()

    # The person opens the Language list and picks 简体中文 with the keyboard.
    page.language_combo.setFocus()
    target = page.language_combo.findText("简体中文")
    for _ in range(target - page.language_combo.currentIndex()):
        qtbot.keyClick(page.language_combo, Qt.Key.Key_Down)
    assert page.language_combo.currentData() == "zh_CN"
    assert page.language_note.isVisible()
    assert "next time" in page.language_note.text()
    window.close()

    # The next start reads it, and the app speaks Chinese, Qt's own words included.
    language = chosen_language(load_preferences(paths.config)[0].language)
    assert language == "zh_CN"
    try:
        installed = install_translators(qapp, language)
        assert {Path(t.filePath()).name for t in installed} == {
            "quantdesk_zh_CN.qm",
            "qtbase_zh_CN.qm",
        }
        assert QCoreApplication.translate("MainWindow", "Settings") == "设置"
        assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    finally:
        install_translators(qapp, "en")
    assert QCoreApplication.translate("MainWindow", "Settings") == "Settings"


def test_quantdesk_language_overrides_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LANGUAGE_ENV, "zh_CN")
    assert chosen_language("en") == "zh_CN"
    monkeypatch.delenv(LANGUAGE_ENV)
    assert chosen_language("en") == "en"


def test_english_and_languages_without_a_catalogue_load_nothing(qapp: QApplication) -> None:
    assert install_translators(qapp, "en") == []
    assert install_translators(qapp, "fr_FR") == []
    assert (TRANSLATIONS_DIR / "quantdesk_zh_CN.qm").is_file()
    assert QLocale("zh_CN").language() == QLocale.Language.Chinese


# --- every visible string, in Chinese ------------------------------------------------------------

# Words that are the same in every language: names and technical terms.
SAME_IN_CHINESE = {
    "Quantdesk",
    "English",
    "GGUF",
    "Hugging Face",
    "llama.cpp",
    "Vulkan",
    "CUDA",
    "Metal",
    "ROCm",
    "OpenAI",  # the local API server's two protocols, by their makers' names
    "Anthropic",
}
# English words that say a text is prose, not a name or a number.
FUNCTION_WORDS = set(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "is",
        "are",
        "and",
        "or",
        "your",
        "you",
        "this",
        "that",
        "for",
        "no",
        "not",
        "on",
        "in",
        "with",
        "it",
        "be",
        "can",
        "from",
        "at",
        "by",
        "will",
        "was",
        "when",
        "what",
        "which",
        "here",
        "there",
        "yet",
        "its",
        "than",
    ]
)
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
PLACEHOLDER_PATTERN = re.compile(r"%(?:\d{1,2}|n)|\{[^}]*\}")


def _source_patterns() -> list[re.Pattern[str]]:
    """Each English source string whose translation differs from it, as a pattern with its
    placeholders matching anything: a text it matches is that string, left untranslated."""
    patterns = []
    for entry in script.read_ts(script.ts_file("zh_CN")):
        if entry.source in entry.translations:
            continue
        pieces = PLACEHOLDER_PATTERN.split(_plain(entry.source))
        patterns.append(re.compile(".+".join(re.escape(piece) for piece in pieces), re.DOTALL))
    return patterns


def _plain(text: str) -> str:
    """What a person reads: markup and accelerator ampersands removed."""
    text = re.sub(r"<(style|head)[^>]*>.*?</\1>", " ", text, flags=re.DOTALL | re.IGNORECASE)
    text = re.sub(r"<[^>]+>", " ", text)
    text = html.unescape(text).replace("&&", "\0").replace("&", "").replace("\0", "&")
    return " ".join(text.split())


def _words(text: str) -> str:
    """The words of `text` alone: the chat renders a model's Markdown (`*smiles*` shows as
    italic "smiles"), so what is on screen and what was written differ in their marks."""
    return " ".join(re.findall(r"\w+", _plain(text)))


def english_in(text: str, sources: list[re.Pattern[str]]) -> str | None:
    """The English sentence in `text`, if any. Names, numbers, paths, units and technical terms
    are data and pass; so does anything in Chinese."""
    plain = _plain(text)
    if not plain or plain in SAME_IN_CHINESE:
        return None
    if any(pattern.fullmatch(plain) for pattern in sources):
        return plain  # one of our strings, shown untranslated
    for run in CJK.split(plain):
        words = [w for w in run.split() if "/" not in w and "\\" not in w and "." not in w[:-1]]
        lowered = [w.strip(".,:;!?()…·\"'").lower() for w in words]
        if len(set(lowered) & FUNCTION_WORDS) >= 2:
            return run.strip()  # prose
        plain_words = [re.fullmatch(r"[a-z]{2,}[,;:]?", w) is not None for w in words]
        if any(a and b for a, b in zip(plain_words, plain_words[1:], strict=False)):
            return run.strip()  # a phrase: "fast path available", "no limit"
        if (
            re.fullmatch(r"[A-Z][a-z]+(?: [a-z]+)*[.…:!?]?", run.strip())
            and run.strip(".…:!? ") not in SAME_IN_CHINESE
        ):
            return run.strip()  # a label: "Send", "New chat", "Choose a file…"
    return None


def widget_texts(widget: QWidget) -> Iterator[str]:
    """What `widget` shows or says about itself: text, title, tooltip, placeholder, items,
    column titles, its accessible name and description."""
    yield widget.toolTip()
    yield widget.accessibleName()
    yield widget.accessibleDescription()
    if widget.isWindow():
        yield widget.windowTitle()
    if isinstance(widget, QLabel):
        yield widget.text()
    if isinstance(widget, QAbstractButton):
        yield widget.text()
    if isinstance(widget, QLineEdit | QTextEdit | QPlainTextEdit):
        yield widget.placeholderText()
    if isinstance(widget, QComboBox):
        yield widget.placeholderText()
        yield from (widget.itemText(i) for i in range(widget.count()))
    if isinstance(widget, QAbstractSpinBox):
        yield widget.specialValueText()
        if isinstance(widget, QSpinBox):
            yield widget.prefix()
            yield widget.suffix()
    if isinstance(widget, QGroupBox):
        yield widget.title()
    if isinstance(widget, QTabWidget):
        yield from (widget.tabText(i) for i in range(widget.count()))
    if isinstance(widget, QWizardPage):
        yield widget.title()
        yield widget.subTitle()
    if isinstance(widget, QListWidget):
        for row in range(min(widget.count(), 50)):
            yield widget.item(row).text()
            yield widget.item(row).toolTip()
    elif isinstance(widget, QTableWidget):
        for column in range(widget.columnCount()):
            header = widget.horizontalHeaderItem(column)
            yield header.text() if header is not None else ""
            for row in range(min(widget.rowCount(), 50)):
                item = widget.item(row, column)
                if item is not None:
                    yield item.text()
                    yield item.toolTip()
    elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
        model = widget.model()
        for row in range(min(model.rowCount(), 50)):
            yield str(model.data(model.index(row, 0)) or "")
    for action in widget.actions():
        yield action.text()
        yield action.toolTip()


def menu_texts(window: MainWindow) -> Iterator[tuple[str, str]]:
    for action in window.menuBar().actions():
        yield "menu bar", action.text()
        menu = action.menu()
        if isinstance(menu, QMenu):
            for item in menu.actions():
                yield f"menu {menu.title()}", item.text()
                yield f"menu {menu.title()}", item.toolTip()


def english_on_screen(
    top: QWidget,
    sources: list[re.Pattern[str]],
    written: tuple[str, ...] = (),
    skip: tuple[QWidget, ...] = (),
) -> list[str]:
    """Every English sentence on the visible widgets under `top` but `skip`, with where it is;
    texts that are part of what a person or a model `written` (the chat's messages) are data."""
    found = []
    for widget in [top, *top.findChildren(QWidget)]:
        if not widget.isVisible() or widget in skip:
            continue
        for text in widget_texts(widget):
            english = english_in(text, sources) if text else None
            if english and any(_words(english) in _words(message) for message in written):
                continue
            if english:
                found.append(f"{type(widget).__name__}({widget.objectName()}): {english!r}")
    return sorted(set(found))


def test_english_detection_tells_sentences_from_data() -> None:
    sources = [re.compile(r"Downloaded .+ of .+")]
    assert english_in("Send", sources) == "Send"
    assert english_in("Downloaded 3 GB of 4 GB", sources) == "Downloaded 3 GB of 4 GB"
    assert english_in("已停止 · the context is nearly full", sources) is not None
    assert english_in("GPU：RTX 3070 — fast path available", sources) is not None
    for data in (
        "SmolLM2 135M Instruct · Q4_1 · 98.4 MB",
        "/tmp/pytest-of-root/models/HuggingFaceTB/smollm2.gguf",
        "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
        "8,192 tokens",
        "Quantdesk",
        "发送",
        "<b>Quantdesk</b> 为你的电脑找到合适的模型",
        "Q4_K_M",
        "GPU：NVIDIA GeForce RTX 3070，8.0 GB",
        "hello",
    ):
        assert english_in(data, sources) is None, data


@pytest.fixture
def hub(local_hub: LocalHub, tiny_model: Path) -> LocalHub:
    local_hub.add_repo(REPO, {FILE: tiny_model})
    for repo_id, files in seed_repos().items():
        local_hub.add_listing_repo(repo_id, files)
    return local_hub


def test_every_visible_string_of_the_main_pages_is_in_chinese(
    qtbot: QtBot, hub: LocalHub, translated: None
) -> None:
    """Walk the wizard's pages down to a loaded model, then a chat with a reply, Models,
    Discover, Downloads, Settings and the menus, as a person who chose 简体中文 would."""
    sources = _source_patterns()
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    found: dict[str, list[str]] = {}
    written: list[str] = []  # what the person and the model wrote in the chat

    def look(where: str, top: QWidget) -> None:
        english = english_on_screen(top, sources, tuple(written))
        if english:
            found[where] = english

    wizard = window.show_wizard()
    look("wizard: welcome", wizard)
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.machine_page.isComplete(), timeout=30_000)
    look("wizard: machine", wizard)
    click_next(qtbot, wizard)
    models = wizard.model_page.model_list
    look("wizard: model", wizard)
    qtbot.keyClicks(models.search_box, "SmolLM2")
    with qtbot.waitSignal(models.search_finished, timeout=20_000):
        qtbot.mouseClick(models.search_button, Qt.MouseButton.LeftButton)
    models.select_repo(REPO)
    look("wizard: model, searched", wizard)
    click_next(qtbot, wizard)
    chooser = wizard.file_page.chooser
    qtbot.waitUntil(lambda: chooser.selected_option is not None, timeout=20_000)
    look("wizard: file", wizard)
    click_next(qtbot, wizard)
    qtbot.waitUntil(lambda: wizard.currentId() == FirstRunWizard.PAGE_READY, timeout=60_000)
    qtbot.waitUntil(
        lambda: wizard.button(QWizard.WizardButton.FinishButton).isEnabled(), timeout=90_000
    )
    look("wizard: ready", wizard)
    qtbot.mouseClick(wizard.button(QWizard.WizardButton.FinishButton), Qt.MouseButton.LeftButton)

    window.chat.settings_panel.fields["max_tokens"].setValue(8)
    qtbot.keyClicks(window.chat.input_box, "hello")  # QTest types Latin keys only
    with qtbot.waitSignal(window.reply_finished, timeout=90_000):
        qtbot.mouseClick(window.chat.send_button, Qt.MouseButton.LeftButton)
    for message in window.session.store.messages(window.chat.conversation.id):
        written.extend((message.content, message.reasoning or ""))
    look("chats", window)
    for index in range(1, window.sidebar.count()):
        window.sidebar.setCurrentRow(index)
        look(window.sidebar.item(index).text(), window)
    menus = [
        f"{where}: {english}"
        for where, text in menu_texts(window)
        if (english := english_in(text, sources))
    ]
    if menus:
        found["menus"] = menus
    window.close()

    assert found == {}, "\n".join(
        f"{where}: {text}" for where, texts in found.items() for text in texts
    )
