"""The Help menu's windows: the keyboard shortcuts, and what Quantdesk is."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__


class ShortcutsDialog(QDialog):
    """A two-column list: the keys, and what they do."""

    def __init__(self, shortcuts: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        self.table = QTableWidget(len(shortcuts), 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("Keys"), self.tr("What they do")])
        self.table.setAccessibleName(self.tr("Keyboard shortcuts"))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        for row, (keys, what) in enumerate(shortcuts):
            self.table.setItem(row, 0, QTableWidgetItem(keys))
            self.table.setItem(row, 1, QTableWidgetItem(what))
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(480, 360)

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    def shortcuts(self) -> list[tuple[str, str]]:
        """What the list shows, row by row."""
        return [(self._cell(row, 0), self._cell(row, 1)) for row in range(self.table.rowCount())]


def about_box(parent: QWidget) -> QMessageBox:
    """ "About Quantdesk", opened without blocking (the caller calls `open()`)."""
    box = QMessageBox(parent)
    box.setWindowTitle(box.tr("About Quantdesk"))
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setText(
        box.tr(
            "Quantdesk {version}: chat with language models on your own computer. Models run "
            "here with llama.cpp; nothing you type leaves this machine."
        ).format(version=__version__)
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box
