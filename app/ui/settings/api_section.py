"""Settings → Local API server: serve the library's models to editors, agents and scripts.

Off by default, and off again at every start. On, it listens on 127.0.0.1 (this computer only)
at the port shown, with an optional key; **Copy URL** puts the base URL on the clipboard, and
the list shows each request as it goes, with its tokens/s. It shares the app's one model and
engine thread: a request waits while the person's reply streams (the list says so).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
)

from app.core.api.server import DEFAULT_HOST, RequestRecord, ServerSettings
from app.ui.messages import error_text
from app.ui.style import mute, plain_text, show_as_error
from app.ui.workers.engine import LoadOptions

if TYPE_CHECKING:
    from app.ui.session import Session

# Requests kept in the list (the oldest go first).
MAX_LISTED = 200
# Columns of the request list.
COLUMNS = 6


class ApiServerSection(QGroupBox):
    """The Local API server's switch, port, key, URL, and the live list of requests."""

    def __init__(self, session: Session) -> None:
        super().__init__(self.tr("Local API server"))
        self.session = session
        self._items: dict[int, QTreeWidgetItem] = {}
        self._states: dict[int, str] = {}  # each listed request's state, for the queue line
        api = session.api

        self.enable_check = QCheckBox(
            self.tr("Serve the models to other programs on this computer")
        )
        self.enable_check.toggled.connect(self._on_toggled)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(0, 65535)
        self.port_spin.setSpecialValueText(self.tr("Any free port"))
        # Remembered: programs set up with the URL find the server there again after a restart.
        self.port_spin.setValue(session.preferences.api_port)
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("None (optional)"))
        self.key_edit.setToolTip(
            self.tr("A password the other programs must send; leave it empty for none.")
        )
        self.key_edit.setClearButtonEnabled(True)
        self.save_check = QCheckBox(self.tr("Save the requests in my chats"))
        self.save_check.setChecked(session.preferences.api_save_requests)
        self.url_label = plain_text(QLabel(self.tr("Off")))
        self.copy_button = QPushButton(self.tr("Copy URL"))
        self.copy_button.setEnabled(False)
        self.copy_button.clicked.connect(self.copy_url)
        self.error_label = plain_text(QLabel())
        self.error_label.setWordWrap(True)
        show_as_error(self.error_label)
        self.error_label.hide()
        self.queue_label = QLabel()
        mute(self.queue_label)

        self.requests = QTreeWidget()
        self.requests.setColumnCount(COLUMNS)
        self.requests.setHeaderLabels(
            [self.tr("#"), self.tr("Request"), self.tr("Model"), self.tr("State"),
             self.tr("Tokens"), self.tr("Tokens/s")]
        )  # fmt: skip
        self.requests.setRootIsDecorated(False)
        # The request and the model get the room; the numbers take what they need.
        header = self.requests.header()
        header.setStretchLastSection(False)
        for column in range(COLUMNS):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.requests.setMinimumHeight(120)

        grid = QGridLayout(self)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.enable_check, 0, 0, 1, 2)
        grid.addWidget(QLabel(self.tr("Port")), 1, 0)
        grid.addLayout(_row(self.port_spin), 1, 1)
        grid.addWidget(QLabel(self.tr("API key")), 2, 0)
        grid.addLayout(_row(self.key_edit), 2, 1)
        grid.addWidget(self.save_check, 3, 1)
        grid.addWidget(QLabel(self.tr("URL")), 4, 0)
        grid.addLayout(_row(self.url_label, self.copy_button), 4, 1)
        grid.addWidget(self.error_label, 5, 1)
        note = QLabel(
            self.tr(
                "Programs made for OpenAI's or Anthropic's online models (code editors, "
                "agents, scripts) can use the model loaded here instead: give them this URL as "
                "their server address (\u201cbase URL\u201d), and the key if you set one. "
                "Anthropic's tools want it without the /v1 at the end. Only programs on this "
                "computer can reach it. Requests share the model with your chats and take "
                "turns; they are saved in your chats only if you choose."
            )
        )
        note.setWordWrap(True)
        mute(note)
        grid.addWidget(note, 6, 1)
        grid.addWidget(self.requests, 7, 0, 1, 2)
        grid.addWidget(self.queue_label, 8, 0, 1, 2)

        api.started.connect(self._on_started)
        api.stopped.connect(self._on_stopped)
        api.failed.connect(self._on_failed)
        api.request_changed.connect(self._on_request)

    # --- switching -------------------------------------------------------------------------------

    @Slot(bool)
    def _on_toggled(self, on: bool) -> None:
        self.error_label.hide()
        if not on:
            self.session.api.stop()
            return
        for field in (self.port_spin, self.key_edit, self.save_check):
            field.setEnabled(False)
        self.url_label.setText(self.tr("Starting…"))
        # The key is not kept: it would be a password in a settings file.
        self.session.update_preferences(
            api_port=self.port_spin.value(), api_save_requests=self.save_check.isChecked()
        )
        settings = ServerSettings(
            host=DEFAULT_HOST,
            port=self.port_spin.value(),
            api_key=self.key_edit.text() or None,
            # Off by default: API requests stay out of the person's chats unless they choose.
            history=self.session.store.path if self.save_check.isChecked() else None,
        )
        self.session.api.start(settings, self.session.paths_with_models_dir(), self._load_options())

    def _load_options(self) -> LoadOptions:
        prefs = self.session.preferences
        return LoadOptions(
            context_length=prefs.default_context,
            threads=prefs.threads,
            gpu_layers=prefs.gpu_layers,
            hardware=self.session.hardware,
        )

    @Slot(str)
    def _on_started(self, url: str) -> None:
        self.url_label.setText(f"{url}/v1")
        self.copy_button.setEnabled(True)
        self._show_queue()

    @Slot()
    def _on_stopped(self) -> None:
        self.url_label.setText(self.tr("Off"))
        self.copy_button.setEnabled(False)
        for field in (self.port_spin, self.key_edit, self.save_check):
            field.setEnabled(True)
        if self.enable_check.isChecked() and not self.session.api.running:
            self.enable_check.blockSignals(True)
            self.enable_check.setChecked(False)
            self.enable_check.blockSignals(False)
        # A request cut off by the stop sends no last update: none waits once the server is off.
        self._states = {
            key: state for key, state in self._states.items() if state not in ("queued", "running")
        }
        self.queue_label.clear()

    @Slot(object)
    def _on_failed(self, error: Exception) -> None:
        self.error_label.setText(error_text(error))
        self.error_label.show()

    def copy_url(self) -> None:
        url = self.session.api.url
        if url:
            QGuiApplication.clipboard().setText(f"{url}/v1")

    # --- the request list ------------------------------------------------------------------------

    @Slot(object)
    def _on_request(self, record: RequestRecord) -> None:
        item = self._items.get(record.id)
        if item is None:
            item = QTreeWidgetItem()
            self.requests.insertTopLevelItem(0, item)
            self._items[record.id] = item
            while self.requests.topLevelItemCount() > MAX_LISTED:
                old = self.requests.takeTopLevelItem(self.requests.topLevelItemCount() - 1)
                self._items = {key: value for key, value in self._items.items() if value is not old}
                self._states = {
                    key: self._states[key] for key in self._items if key in self._states
                }
        item.setText(0, str(record.id))
        item.setText(1, f"{record.method} {record.path}")
        item.setText(2, record.model)
        item.setText(3, self._state_text(record))
        item.setText(4, str(record.completion_tokens) if record.completion_tokens else "")
        item.setText(5, f"{record.tokens_per_second:.1f}" if record.tokens_per_second else "")
        item.setToolTip(3, record.error)
        self._states[record.id] = record.state
        self._show_queue()

    def _state_text(self, record: RequestRecord) -> str:
        if record.state == "refused" and record.status >= 500:  # the server failed, not the client
            return self.tr("Failed ({status})").format(status=record.status)
        texts = {
            "queued": self.tr("Waiting for the model"),
            "running": self.tr("Generating"),
            "done": self.tr("Done"),
            "failed": self.tr("Failed"),
            "refused": self.tr("Refused ({status})").format(status=record.status),
            "cancelled": self.tr("Client left"),
        }
        return texts.get(record.state, record.state)

    def _show_queue(self) -> None:
        # From the requests' own states, not the server's count: a request's last update ("Done")
        # comes before the server counts it out, and the line said one was still queued.
        waiting = sum(state in ("queued", "running") for state in self._states.values())
        self.queue_label.setText(
            self.tr("%n request(s) in the queue", "", waiting) if waiting else ""
        )

    def state_of(self, request_id: int) -> str:
        """The state column of request `request_id` ("" if not listed), for tests."""
        item = self._items.get(request_id)
        return item.text(3) if item is not None else ""


def _row(*widgets: object) -> QHBoxLayout:
    line = QHBoxLayout()
    line.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        line.addWidget(widget)  # type: ignore[arg-type]
    line.addStretch(1)
    return line
