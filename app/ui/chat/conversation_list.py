"""The conversation sidebar: new chat, search by title, rename (double-click or F2), delete.
Each entry is the chat's title and, on a muted second line, the model it was with."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal, Slot
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from app.core.chat.history import ChatStore, Conversation
from app.ui.messages import Attempt, saving_chat
from app.ui.style import MUTED_SHARE, blend, plain_tooltip

_ID_ROLE = Qt.ItemDataRole.UserRole
# The entry's second line: the library's name for the chat's model ("" when none is recorded).
_MODEL_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


class ConversationList(QWidget):
    """Lists the conversations of a `ChatStore`, most recent first.

    Signals:
        selected(int): the person opened a conversation.
        new_requested(): the person asked for a new chat.
        deleted(int): a conversation was deleted.
        problem(str): the chat history refused a change (full disk, locked): a sentence to show.
    """

    selected = Signal(int)
    new_requested = Signal()
    deleted = Signal(int)
    problem = Signal(str)

    def __init__(
        self, store: ChatStore, *, model_label: Callable[[Path], str] | None = None
    ) -> None:
        """`model_label` names a model file as the library does, from its path alone (it is
        called for every chat each time the list is filled); without it, no model is shown."""
        super().__init__()
        self._store = store
        self._model_label = model_label
        self._refreshing = False
        self._busy = False
        self.new_button = QPushButton(self.tr("New chat"))
        self.new_button.setToolTip(self.tr("Start a new conversation (Ctrl+N)"))
        self.new_button.clicked.connect(self.new_requested)
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(self.tr("Search chats"))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.textChanged.connect(self.refresh)
        self.list = QListWidget()
        self.list.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
        )
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setItemDelegate(_ChatEntryDelegate(self.list))
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemChanged.connect(self._on_item_renamed)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.rename_button = QPushButton(self.tr("Rename"))
        self.rename_button.clicked.connect(self._start_rename)
        actions = QHBoxLayout()
        actions.addWidget(self.rename_button)
        actions.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_box)
        layout.addWidget(self.list, 1)
        layout.addLayout(actions)
        self.refresh()

    @Slot()
    def refresh(self) -> None:
        """List the conversations matching the search, keeping the selection."""
        current = self.current_id()
        self._refreshing = True
        try:
            self.list.clear()
            found = []
            with self._saving(doing="read the chats"):
                found = self._store.list_conversations(self.search_box.text())
            labels: dict[str, str] = {}  # most chats share a few models
            for conversation in found:
                self.list.addItem(self._entry(conversation, labels))
            if current is not None:
                self._select_quietly(current)
        finally:
            self._refreshing = False
        self._update_buttons()

    def _entry(self, conversation: Conversation, labels: dict[str, str]) -> QListWidgetItem:
        """A chat's entry: its title (what a rename edits) and its model's name, worked out
        here, once, so that painting reads no file."""
        item = QListWidgetItem(conversation.title)
        item.setData(_ID_ROLE, conversation.id)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        path = conversation.model_path
        if path and self._model_label is not None and path not in labels:
            labels[path] = self._model_label(Path(path))
        model = labels.get(path, "") if path else ""
        item.setData(_MODEL_ROLE, model)
        tooltip = plain_tooltip(conversation.title)
        if model:
            with_model = self.tr("Model: {model}").format(model=model)
            item.setData(Qt.ItemDataRole.AccessibleDescriptionRole, with_model)
            tooltip += "<br>" + plain_tooltip(with_model)
        item.setToolTip(tooltip)
        return item

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return item.data(_ID_ROLE) if item is not None else None

    def show_conversation(self, conversation_id: int | None) -> None:
        """Highlight a conversation without emitting `selected`."""
        self._refreshing = True
        try:
            if conversation_id is None:
                self.list.setCurrentRow(-1)
            else:
                self._select_quietly(conversation_id)
        finally:
            self._refreshing = False
        self._update_buttons()

    def rename(self, conversation_id: int, title: str) -> None:
        with self._saving():
            self._store.rename_conversation(conversation_id, title)
        self.refresh()  # the stored title, whether the rename was saved or not

    def delete(self, conversation_id: int) -> None:
        """Delete a conversation and its messages (no question asked: see `_confirm_delete`)."""
        if self._busy:
            return
        with self._saving() as saving:
            self._store.delete_conversation(conversation_id)
        self.refresh()
        if not saving.failed:
            self.deleted.emit(conversation_id)

    def _select_quietly(self, conversation_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_ID_ROLE) == conversation_id:
                self.list.setCurrentRow(row)
                return

    @Slot()
    def _confirm_delete(self) -> None:
        conversation_id = self.current_id()
        if conversation_id is None:
            return
        title = self.list.currentItem().text()
        answer = QMessageBox.question(
            self,
            self.tr("Delete chat"),
            self.tr("Delete “{title}” and all its messages? This can't be undone.").format(
                title=title
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(conversation_id)

    @Slot()
    def _start_rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self._update_buttons()
        if current is not None and not self._refreshing:
            self.selected.emit(current.data(_ID_ROLE))

    @Slot(QListWidgetItem)
    def _on_item_renamed(self, item: QListWidgetItem) -> None:
        if self._refreshing:
            return
        title = item.text().strip()
        conversation_id = item.data(_ID_ROLE)
        if not title:  # an empty name is not a name: put the old one back
            self.refresh()
            return
        self.rename(conversation_id, title)

    def _saving(self, *, doing: str = "save the chat") -> AbstractContextManager[Attempt]:
        """The guard around this list's chat-store calls: a HistoryError becomes a sentence,
        sent to the page (`problem`) to show above the input box."""
        return saving_chat(self.problem.emit, doing=doing)

    def set_busy(self, busy: bool) -> None:
        """While a reply streams into the open chat, it can't be deleted or left."""
        self._busy = busy
        self.new_button.setEnabled(not busy)
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_current = self.list.currentItem() is not None and not self._busy
        self.delete_button.setEnabled(has_current)
        self.rename_button.setEnabled(has_current)


class _ChatEntryDelegate(QStyledItemDelegate):
    """Paints an entry as two lines: the title, and under it, muted, the model's name (from the
    item: nothing is read while painting). An entry without a model is painted as usual."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        model = index.data(_MODEL_ROLE)
        if not model:
            super().paint(painter, option, index)
            return
        view = QStyleOptionViewItem(option)
        self.initStyleOption(view, index)
        title, view.text = view.text, ""
        widget = view.widget
        style = widget.style() if widget is not None else QApplication.style()
        # The selection, hover and focus as Qt draws them, without the text.
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, view, painter, widget)
        area = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, view, widget)
        area = area.adjusted(2, 0, -2, 0)  # the margin Qt leaves around an entry's text
        selected = bool(view.state & QStyle.StateFlag.State_Selected)
        group = (
            QPalette.ColorGroup.Active
            if view.state & QStyle.StateFlag.State_Active
            else QPalette.ColorGroup.Inactive
        )
        text = view.palette.color(
            group, QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        ground = view.palette.color(
            group, QPalette.ColorRole.Highlight if selected else QPalette.ColorRole.Base
        )
        metrics = view.fontMetrics
        line = metrics.height()
        top = area.top() + max(0, (area.height() - 2 * line) // 2)
        painter.save()
        painter.setFont(view.font)
        for row, (words, color) in enumerate(
            ((title, text), (model, blend(text, ground, MUTED_SHARE)))
        ):
            painter.setPen(color)
            painter.drawText(
                QRect(area.left(), top + row * line, area.width(), line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(words, Qt.TextElideMode.ElideRight, area.width()),
            )
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:  # noqa: N802 - Qt's name
        size = super().sizeHint(option, index)
        if index.data(_MODEL_ROLE):
            size.setHeight(size.height() + option.fontMetrics.height())
        return size
