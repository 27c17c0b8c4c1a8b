""" "Add a model file…": one action, one name, everywhere; the file joins the library for good.

Driven as a person does: click the button, type the path (or browse to it in Qt's own file
dialog), choose how the file joins, click Add; then restart the app and find it still there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox, QPushButton, QRadioButton
from pytestqt.qtbot import QtBot

from app.core.paths import app_paths
from app.ui.library.add_model import AddModelDialog
from app.ui.main_window import MainWindow
from app.ui.session import Session
from tests.gui.test_session import MACHINE

ADD = "Add a model file…"


def open_window(qtbot: QtBot) -> MainWindow:
    window = MainWindow(Session(app_paths().ensure()))
    qtbot.addWidget(window)
    window.show()
    return window


def _window_shown(dialog: AddModelDialog) -> bool:
    """Whether the window the dialog belongs to is still shown: not one an earlier test closed
    (its dialog, never deleted, may still be listed as visible)."""
    parent = dialog.parentWidget()
    return parent is None or parent.window().isVisible()


def visible_dialog(qtbot: QtBot) -> AddModelDialog:
    found: list[AddModelDialog] = []

    def shown() -> bool:
        found[:] = [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, AddModelDialog) and w.isVisible() and _window_shown(w)
        ]
        return bool(found)

    qtbot.waitUntil(shown, timeout=5_000)
    return found[0]


def choose(qtbot: QtBot, radio: QRadioButton) -> None:
    """Click a radio button on its circle (a wide one's middle is empty space)."""
    qtbot.mouseClick(radio, Qt.MouseButton.LeftButton, pos=QPoint(8, radio.height() // 2))


def answer_next_question(button: QMessageBox.StandardButton) -> None:
    """Click `button` in the question box that is about to open (it runs its own loop)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.button(button).click()
        else:
            QTimer.singleShot(50, click)

    QTimer.singleShot(50, click)


def test_every_way_in_is_called_add_a_model_file(qtbot: QtBot) -> None:
    window = open_window(qtbot)
    menu_actions = [a.text() for a in window.menuBar().actions()[0].menu().actions()]
    assert ADD in menu_actions
    for row in range(window.sidebar.count()):  # a look at every page, clicked in the sidebar
        item_rect = window.sidebar.visualItemRect(window.sidebar.item(row))
        qtbot.mouseClick(
            window.sidebar.viewport(), Qt.MouseButton.LeftButton, pos=item_rect.center()
        )
        assert window.sidebar.currentRow() == row
    buttons = [b.text() for b in window.findChildren(QPushButton)]
    # The picker row, the empty chat, the Models page and Discover's model list.
    assert buttons.count(ADD) == 4
    assert not [t for t in buttons + menu_actions if "Open .gguf" in t or "Import" in t]
    window.close()


def test_a_file_added_where_it_is_loads_is_listed_and_survives_a_restart(
    qtbot: QtBot, tiny_model: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "Downloads" / "SmolLM2-135M-Instruct-Q4_1.gguf"
    outside.parent.mkdir()
    shutil.copyfile(tiny_model, outside)
    window = open_window(qtbot)
    qtbot.mouseClick(window.add_file_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    assert dialog.keep_button.isChecked()  # no second copy of gigabytes unless asked for
    assert not dialog.add_button.isEnabled()
    qtbot.keyClicks(dialog.path_edit, str(outside))
    with qtbot.waitSignal(window.model_loaded, timeout=90_000):
        qtbot.keyClick(dialog.path_edit, Qt.Key.Key_Return)
    assert not dialog.isVisible()
    qtbot.keyClicks(window.chat.input_box, "Hello")
    assert window.chat.send_button.isEnabled()
    page = window.models_page
    assert [page.table.item(0, c).text() for c in (0, 1, 2)] == [
        "SmolLM2 135M Instruct",
        "used where it is",
        "Q4_1",
    ]
    assert str(outside) in page.table.item(0, 0).toolTip()
    assert not (app_paths().models / "imported").exists()  # the file stayed where it was
    window.close()

    again = open_window(qtbot)
    qtbot.waitUntil(lambda: again.loaded_model is not None, timeout=90_000)
    assert again.models_page.table.rowCount() == 1
    assert again.model_picker.count() == 1
    assert again.model_picker.itemText(0).startswith("SmolLM2 135M Instruct · Q4_1")

    # The file goes away: it is shown missing, and can be taken off the list.
    outside.unlink()
    again.models_page.refresh()
    page = again.models_page
    assert page.table.item(0, 3).text() == "file not found"
    assert "no longer there" in page.table.item(0, 0).toolTip()
    again.sidebar.setCurrentRow(1)
    qtbot.mouseClick(
        page.table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=page.table.visualItemRect(page.table.item(0, 0)).center(),
    )
    assert not page.chat_button.isEnabled()
    assert page.delete_button.text() == "Remove from the list…"
    answer_next_question(QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(page.deleted, timeout=10_000):
        qtbot.mouseClick(page.delete_button, Qt.MouseButton.LeftButton)
    assert page.table.rowCount() == 0
    again.close()
    third = open_window(qtbot)
    assert third.models_page.table.rowCount() == 0
    third.close()


# Qt's file dialog completes the typed name in a popup, which offscreen can't give the keyboard.
@pytest.mark.qt_log_ignore("^This plugin does not support grabbing the keyboard$")
def test_a_file_copied_in_through_the_file_dialog_joins_the_models_folder(
    qtbot: QtBot, tiny_model: Path, tmp_path: Path
) -> None:
    window = open_window(qtbot)
    window.sidebar.setCurrentRow(1)
    page = window.models_page
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    # Type the folder, browse from there, pick the file by name in Qt's own file dialog.
    folder = tmp_path / "Downloads"
    folder.mkdir()
    source = folder / tiny_model.name
    shutil.copyfile(tiny_model, source)
    qtbot.keyClicks(dialog.path_edit, str(folder))
    qtbot.mouseClick(dialog.browse_button, Qt.MouseButton.LeftButton)
    files = dialog.file_dialog
    assert files is not None
    qtbot.waitUntil(files.isVisible, timeout=5_000)
    assert files.directory().absolutePath() == str(folder)
    name_box = files.findChild(QLineEdit, "fileNameEdit")  # Qt's own dialog, as offscreen has
    qtbot.keyClicks(name_box, source.name)
    qtbot.keyClick(name_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not files.isVisible(), timeout=5_000)
    assert dialog.path_edit.text() == str(source)
    choose(qtbot, dialog.copy_button)
    assert dialog.copy_button.isChecked()
    with qtbot.waitSignal(page.imported, timeout=60_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    copied = app_paths().models / "imported" / tiny_model.name
    assert copied.stat().st_size == tiny_model.stat().st_size
    assert source.exists()  # a copy: the person's file stays too
    assert page.table.item(0, 1).text() == "copied in"
    assert page.selected_model() is not None and page.selected_model().path == copied
    assert window.loaded_model is None  # the Models page adds; the chat button loads
    assert window.model_picker.count() == 1  # the picker lists it at once

    # The same name again: the dialog says why and stays open for another try.
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    qtbot.keyClicks(dialog.path_edit, str(source))
    choose(qtbot, dialog.copy_button)
    with qtbot.waitSignal(dialog.failed, timeout=30_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "already" in dialog.message.text()
    assert dialog.isVisible()
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    window.close()


def test_a_broken_file_is_refused_in_the_dialog_with_its_reason(
    qtbot: QtBot, broken_models: dict[str, Path]
) -> None:
    window = open_window(qtbot)
    qtbot.mouseClick(window.add_file_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    qtbot.keyClicks(dialog.path_edit, str(broken_models["wrong-magic"]))
    with qtbot.waitSignal(dialog.failed, timeout=30_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert "not a GGUF model" in dialog.message.text()
    assert window.models_page.table.rowCount() == 0
    window.close()


def test_a_model_added_in_this_run_gets_its_fit_badge(qtbot: QtBot, tiny_model: Path) -> None:
    window = MainWindow(Session(app_paths().ensure(), hardware=MACHINE))
    qtbot.addWidget(window)
    window.show()
    window.detect_hardware_later()  # the machine is known: the badges can be worked out
    window.sidebar.setCurrentRow(1)
    page = window.models_page
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    qtbot.keyClicks(dialog.path_edit, str(tiny_model))
    with qtbot.waitSignal(page.imported, timeout=30_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.table.item(0, 4).text() not in ("", "…"), timeout=20_000)
    window.close()


def test_a_file_whose_name_names_no_quant_shows_the_quant_its_header_names(
    qtbot: QtBot, tiny_model: Path, tmp_path: Path
) -> None:
    renamed = tmp_path / "Downloads" / "my-model.gguf"
    renamed.parent.mkdir()
    shutil.copyfile(tiny_model, renamed)
    window = open_window(qtbot)  # no machine known: the quant doesn't wait for fit badges
    window.sidebar.setCurrentRow(1)
    page = window.models_page
    qtbot.mouseClick(page.import_button, Qt.MouseButton.LeftButton)
    dialog = visible_dialog(qtbot)
    qtbot.keyClicks(dialog.path_edit, str(renamed))
    with qtbot.waitSignal(page.imported, timeout=30_000):
        qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    assert page.table.item(0, 0).text() == "my model"
    # Read from `general.file_type` on a task thread, then shown in both lists.
    qtbot.waitUntil(lambda: page.table.item(0, 2).text() == "Q4_1", timeout=20_000)
    qtbot.waitUntil(lambda: window.model_picker.itemText(0).startswith("my model · Q4_1"))
    window.close()
