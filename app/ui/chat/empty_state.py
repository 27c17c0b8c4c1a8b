"""What the chat shows while no model is loaded: what to do, and a button for each way forward.

A person who cancelled the wizard, or started with no model, must never face an empty window
and a greyed-out Send button with nothing saying why.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from app.ui.style import mute


class EmptyChatState(QFrame):
    """ "No model is loaded" with three ways to get one.

    Signals:
        discover_requested(): "Discover models" was clicked.
        add_file_requested(): "Add a model file…" was clicked.
        setup_requested(): "Set up a model…" was clicked.
    """

    discover_requested = Signal()
    add_file_requested = Signal()
    setup_requested = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("emptyChatState")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading = QLabel(self.tr("No model is loaded"))
        font = self.heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.3)
        font.setBold(True)
        self.heading.setFont(font)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        mute(self.explanation)
        self.discover_button = QPushButton(self.tr("Discover models"))
        self.discover_button.setToolTip(self.tr("Find a model to download"))
        self.discover_button.clicked.connect(self.discover_requested)
        self.add_file_button = QPushButton(self.tr("Add a model file…"))
        self.add_file_button.setToolTip(
            self.tr("Use a .gguf file that is already on this computer")
        )
        # The header has a button of the same name: a screen reader hears where this one is.
        self.add_file_button.setAccessibleName(self.tr("Add a model file to start chatting"))
        self.add_file_button.clicked.connect(self.add_file_requested)
        self.setup_button = QPushButton(self.tr("Set up a model…"))
        self.setup_button.setToolTip(self.tr("Let Quantdesk suggest a model for this computer"))
        self.setup_button.clicked.connect(self.setup_requested)
        buttons = QHBoxLayout()
        for button in (self.setup_button, self.discover_button, self.add_file_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(self.heading)
        layout.addWidget(self.explanation)
        layout.addLayout(buttons)
        self.explanation.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.set_has_models(False)

    def set_has_models(self, has_models: bool) -> None:
        """Whether the library has models already (then the picker above is the quickest way)."""
        self.explanation.setText(
            self.tr(
                "To chat, load a model: pick one of your models in the list above, find a new "
                "one in Discover, or add a model file you already have."
            )
            if has_models
            else self.tr(
                "To chat, you need a model. Set one up with Quantdesk's help, find one in "
                "Discover, or add a model file you already have."
            )
        )
