"""Settings → Other computers: the workers (`quantdesk worker`) a model's layers may go to.

A person adds a worker by its address; it is probed on a task thread (its devices, their free
memory, the round-trip time, through llama.cpp's RPC backend in a child process) and listed
with what it offers or why it can't be used. Nothing is contacted that the person didn't add.
The list is saved at once and used by the next load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core._util.cancel import CancelToken
from app.core._util.text import printable
from app.core._util.units import format_bytes
from app.core.config.preferences import MAX_WORKERS
from app.core.engine.rpc import Device
from app.core.errors import RemoteWorkerError
from app.core.remote.workers import WorkerProbe, parse_address, probe
from app.ui.messages import error_text
from app.ui.style import mute, plain_text, show_as_error
from app.ui.workers.job import Jobs
from app.ui.workers.task import TaskWorker

if TYPE_CHECKING:
    from app.core.config.preferences import Preferences


class WorkerRow(QWidget):
    """One added computer: its address, what it offers (or why not), and Remove."""

    remove_requested = Signal(str)
    check_requested = Signal(str)

    def __init__(self, endpoint: str) -> None:
        super().__init__()
        self.endpoint = endpoint
        self.address_label = plain_text(QLabel(endpoint))
        self.status = plain_text(QLabel(self.tr("Checking…")))
        # The layers of the loaded model this computer holds (None: none); while it holds
        # some, a probe's late answer doesn't replace that.
        self.held: int | None = None
        self.status.setWordWrap(True)
        mute(self.status)
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setAccessibleName(self.tr("Remove {address}").format(address=endpoint))
        self.remove_button.clicked.connect(lambda: self.remove_requested.emit(self.endpoint))
        # Shown while it can't be used: after starting the worker there, ask it again.
        self.check_button = QPushButton(self.tr("Check again"))
        self.check_button.setAccessibleName(
            self.tr("Check {address} again").format(address=endpoint)
        )
        self.check_button.clicked.connect(lambda: self.check_requested.emit(self.endpoint))
        self.check_button.hide()
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        buttons = QHBoxLayout()
        buttons.addWidget(self.check_button)
        buttons.addWidget(self.remove_button)
        layout.addWidget(self.address_label, 0, 0)
        layout.addLayout(buttons, 0, 1)
        layout.addWidget(self.status, 1, 0, 1, 2)
        layout.setColumnStretch(0, 1)

    @Slot(object)
    def show_probe(self, found: WorkerProbe) -> None:
        if self.held is not None:
            return
        offers = "; ".join(
            self.tr("{device}: {free} free of {total}").format(
                device=self._device_words(device, index, len(found.devices)),
                free=format_bytes(device.free_bytes),
                total=format_bytes(device.total_bytes),
            )
            for index, device in enumerate(found.devices, start=1)
        )
        self.status.setText(
            self.tr("{offers} · answered in {ms} ms").format(
                offers=offers, ms=f"{found.round_trip_seconds * 1000:.1f}"
            )
        )
        mute(self.status)

    def _device_words(self, device: Device, index: int, count: int) -> str:
        # llama.cpp's RPC client names a worker's devices after the connection ("RPC0",
        # described by the address), which says nothing new here: memory, or device N.
        if device.name.upper().startswith("RPC"):
            return self.tr("Memory") if count == 1 else self.tr("Device {n}").format(n=index)
        # Otherwise the worker names them: bounded, one line.
        return printable(
            f"{device.name} ({device.description})" if device.description else device.name
        )

    @Slot(object)
    def show_error(self, error: Exception) -> None:
        if self.held is not None:
            return
        self.status.setText(error_text(error))
        show_as_error(self.status)
        self.check_button.show()

    def show_checking(self) -> None:
        self.status.setText(self.tr("Checking…"))
        mute(self.status)
        self.check_button.hide()

    def show_in_use(self, layers: int) -> None:
        self.held = layers
        self.status.setText(self.tr("Holds %n layers of the model loaded now.", "", layers))
        mute(self.status)


class WorkersSection(QGroupBox):
    """The list of other computers; `changed(tuple)` carries the new list of addresses, to be
    saved (the page saves it in the preferences)."""

    changed = Signal(object)

    def __init__(self) -> None:
        super().__init__(self.tr("Other computers"))
        self._jobs = Jobs(self)
        self._cancel = CancelToken()
        self.rows: dict[str, WorkerRow] = {}
        # The loaded model's layers on each computer: a worker serves one computer at a
        # time, so a probe of one in use would only wait; its row says what it holds instead.
        self._in_use: dict[str, int] = {}
        self.address_edit = QLineEdit()
        self.address_edit.setPlaceholderText(
            self.tr("The address “quantdesk worker” shows, like 192.168.1.20:50052")
        )
        self.address_edit.setAccessibleName(self.tr("Address of another computer"))
        self.address_edit.returnPressed.connect(self.add_clicked)
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.clicked.connect(self.add_clicked)
        self.message = plain_text(QLabel())
        self.message.setWordWrap(True)
        show_as_error(self.message)
        self.message.hide()
        self._list = QVBoxLayout()
        note = QLabel(
            self.tr(
                "Run a model too big for this computer with the memory of other computers on "
                "your network: start “quantdesk worker” on each, then add the address it shows. "
                "The next model you load is shared out among them by each one's free memory. "
                "The connection has no password and no encryption: add only computers on a "
                "network you trust."
            )
        )
        note.setWordWrap(True)
        mute(note)
        add_row = QHBoxLayout()
        add_row.addWidget(self.address_edit, 1)
        add_row.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.addLayout(add_row)
        layout.addWidget(self.message)
        layout.addLayout(self._list)
        layout.addWidget(note)

    def set_preferences(self, preferences: Preferences) -> None:
        """Show the saved list (probing computers not shown yet)."""
        wanted = list(preferences.workers)
        for endpoint in [e for e in self.rows if e not in wanted]:
            self._drop_row(endpoint)
        for endpoint in wanted:
            if endpoint not in self.rows:
                self._add_row(endpoint)

    @Slot()
    def add_clicked(self) -> None:
        text = self.address_edit.text()
        try:
            endpoint = parse_address(text).endpoint
        except RemoteWorkerError as error:
            self._say(error_text(error))
            return
        if endpoint in self.rows:
            self._say(self.tr("{address} is in the list already.").format(address=endpoint))
            return
        if len(self.rows) >= MAX_WORKERS:
            self._say(self.tr("The list holds {n} computers at most.").format(n=MAX_WORKERS))
            return
        self._say("")
        self.address_edit.clear()
        self._add_row(endpoint)
        self.changed.emit(tuple(self.rows))

    @Slot(str)
    def remove(self, endpoint: str) -> None:
        self._drop_row(endpoint)
        self.changed.emit(tuple(self.rows))

    @Slot(str)
    def check_again(self, endpoint: str) -> None:
        """Probe a computer that couldn't be used again (its worker may be running now)."""
        row = self.rows.get(endpoint)
        if row is not None and row.held is None:
            self._probe(row)

    def shutdown(self) -> None:
        self._cancel.cancel()
        self._jobs.shutdown()

    def set_in_use(self, layers_by_endpoint: dict[str, int]) -> None:
        """The loaded model holds these layers on these computers (empty: none loaded, or on
        this computer alone). Their rows say so; rows no longer in use are probed again."""
        before, self._in_use = self._in_use, dict(layers_by_endpoint)
        for endpoint, row in self.rows.items():
            if endpoint in self._in_use:
                row.show_in_use(self._in_use[endpoint])
            elif endpoint in before:
                row.held = None
                self._probe(row)

    def _add_row(self, endpoint: str) -> None:
        row = WorkerRow(endpoint)
        row.remove_requested.connect(self.remove)
        row.check_requested.connect(self.check_again)
        self.rows[endpoint] = row
        self._list.addWidget(row)
        if endpoint in self._in_use:
            row.show_in_use(self._in_use[endpoint])
        else:
            self._probe(row)

    def _probe(self, row: WorkerRow) -> None:
        row.show_checking()
        address = parse_address(row.endpoint)
        cancel = self._cancel
        worker = TaskWorker(lambda: probe(address, cancel=cancel), name="probe-worker")
        # To the row's own slots: queued onto the GUI thread (a lambda would run on the task's).
        worker.finished.connect(row.show_probe)
        worker.failed.connect(row.show_error)
        self._jobs.start(worker)

    def _drop_row(self, endpoint: str) -> None:
        row = self.rows.pop(endpoint)
        self._list.removeWidget(row)
        row.deleteLater()

    def _say(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
