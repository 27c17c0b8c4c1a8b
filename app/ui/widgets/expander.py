"""A fold for the details behind a plain sentence: "Why this file?" and its rules and numbers.

A person reads the one sentence first; whoever wants the arithmetic opens the fold. The button
is a real button (Tab reaches it, Space opens it, a screen reader hears its name and whether it
is open), with an arrow that points right when closed and down when open.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from app.ui.style import mute, plain_text


class Expander(QWidget):
    """A titled arrow button that shows or hides a details text under it.

    The details are plain text (they may quote a file or a GPU name), one item a line. With no
    details the whole expander hides: there is nothing to explain.

    Signals:
        toggled(bool): the details were shown (True) or hidden (False).
    """

    toggled = Signal(bool)

    def __init__(self, title: str, parent: QWidget) -> None:
        """`parent` at once: a parentless widget made visible would open as its own window."""
        super().__init__(parent)
        self.button = QToolButton(self)
        self.button.setText(title)
        self.button.setAccessibleName(title)
        self.button.setCheckable(True)
        self.button.setAutoRaise(True)
        self.button.setArrowType(Qt.ArrowType.RightArrow)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # Tab reaches it, as a click does
        self.button.setAccessibleDescription(self.tr("Details hidden"))
        self.button.toggled.connect(self._on_toggled)
        self.details = plain_text(QLabel(self))
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Wrapped text may grow downwards, never widen the window.
        self.details.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.details.setMinimumWidth(1)
        self.details.setVisible(False)
        mute(self.details)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.details)
        self.setVisible(False)

    @property
    def expanded(self) -> bool:
        return self.button.isChecked()

    def set_expanded(self, expanded: bool) -> None:
        self.button.setChecked(expanded)

    def set_details(self, lines: list[str]) -> None:
        """Show `lines` (one item each) when open; no lines hides the expander."""
        self.details.setText("\n".join(f"• {line}" for line in lines))
        self.setVisible(bool(lines))

    def details_text(self) -> str:
        return self.details.text()

    @Slot(bool)
    def _on_toggled(self, expanded: bool) -> None:
        self.button.setArrowType(Qt.ArrowType.DownArrow if expanded else Qt.ArrowType.RightArrow)
        # Say the state to a screen reader, which does not see the arrow.
        self.button.setAccessibleDescription(
            self.tr("Details shown") if expanded else self.tr("Details hidden")
        )
        self.details.setVisible(expanded)
        self.toggled.emit(expanded)
