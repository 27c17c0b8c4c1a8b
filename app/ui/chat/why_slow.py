""" "Why is it slow?": a window beside the chat listing what sets the speed of replies, each from
a figure measured for this load and its last reply, and the one change most likely to help
(`app.core.fit.slowness.suggest`). The window gathers nothing itself: the main window measures
off the GUI thread and hands the figures here."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.core._util.text import printable
from app.core._util.units import format_bytes, format_seconds
from app.core.fit.slowness import Remedy, SlownessFigures, Suggestion, start_speed
from app.core.fit.speed import SpeedBasis
from app.ui.style import mute, plain_text

# The rows, in the order they are listed.
ROWS = ("layers", "engine", "threads", "cpu", "context", "memory", "reply", "predicted")

# What the suggestion's button opens: the main window carries it out (it owns the pages). A
# change only the person can make outside the app (close programs, close GPU apps) has no button.
GPU_SETTINGS = "gpu settings"
NEW_CHAT = "new chat"
DISCOVER = "discover"
ACTIONS: dict[Remedy, str] = {
    Remedy.FEWER_GPU_LAYERS: GPU_SETTINGS,
    Remedy.MORE_GPU_LAYERS: GPU_SETTINGS,
    Remedy.NEW_CHAT: NEW_CHAT,
    Remedy.SHORTER_PROMPT: NEW_CHAT,
    Remedy.SMALLER_FILE: DISCOVER,
    Remedy.SMALLER_MODEL: DISCOVER,
}


class WhySlowPanel(QDialog):
    """Not modal: the chat stays usable beside it, and it refreshes after each reply."""

    # The suggestion's button was pressed: one of GPU_SETTINGS, NEW_CHAT, DISCOVER.
    action_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Why is it slow?"))
        self.setAccessibleName(self.tr("Why is it slow?"))
        self.status = plain_text(QLabel())
        self.status.setWordWrap(True)
        mute(self.status)
        titles = {
            "layers": self.tr("Where the model runs"),
            "engine": self.tr("Engine"),
            "threads": self.tr("CPU threads"),
            "cpu": self.tr("Other programs"),
            "context": self.tr("Conversation length"),
            "memory": self.tr("Memory spill"),
            "reply": self.tr("Last reply"),
            "predicted": self.tr("Expected for this file"),
        }
        self.rows: dict[str, QLabel] = {}
        form = QFormLayout()
        for key in ROWS:
            value = plain_text(QLabel())  # file and GPU names, as written
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setAccessibleName(titles[key])
            self.rows[key] = value
            form.addRow(titles[key], value)
        self.suggestion_title = QLabel(self.tr("What would help most"))
        font = self.suggestion_title.font()
        font.setBold(True)
        self.suggestion_title.setFont(font)
        self.suggestion = plain_text(QLabel())
        self.suggestion.setWordWrap(True)
        self.suggestion.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.suggestion.setAccessibleName(self.tr("What would help most"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        self.action_button = buttons.addButton("", QDialogButtonBox.ButtonRole.ActionRole)
        self.action_button.clicked.connect(self._on_action)
        self._action: str | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(form)
        layout.addWidget(self.suggestion_title)
        layout.addWidget(self.suggestion)
        layout.addStretch(1)
        layout.addWidget(buttons)
        self.resize(560, 420)
        self.show_no_model()

    # --- states ----------------------------------------------------------------------------------

    def show_no_model(self) -> None:
        self._clear()
        self.status.setText(
            self.tr(
                "No model is loaded. Load one in the chat, send a message, and look here again."
            )
        )

    def show_gathering(self) -> None:
        self.status.setText(self.tr("Measuring…"))

    def show_failed(self, reason: str) -> None:
        self._clear()
        self.status.setText(self.tr("The figures couldn't be read: {reason}").format(reason=reason))

    def show_figures(
        self, figures: SlownessFigures, suggestion: Suggestion | None, *, engine: str
    ) -> None:
        """Fill every row from `figures`; `engine`: the engine's own description (CPU build,
        GPU engine), in the person's language."""
        if figures.reply is None:
            self.status.setText(
                self.tr(
                    "No reply yet: send a message, and the figures of its reply show here. "
                    "What is known from the load alone is below."
                )
            )
        else:
            self.status.setText(self.tr("Measured for this model and its last reply."))
        rows = self.rows
        rows["layers"].setText(self._layers(figures))
        rows["engine"].setText(engine)
        threads = figures.threads
        rows["threads"].setText(
            self.tr("one thread") if threads == 1 else self.tr("%n threads", "", threads)
        )
        rows["cpu"].setText(self._others(figures))
        rows["context"].setText(
            self.tr("{used} of {ctx}\u00a0tokens of context in use").format(
                used=f"{figures.context_depth:,}", ctx=f"{figures.context_length:,}"
            )
        )
        rows["memory"].setText(self._memory(figures))
        rows["reply"].setText(self._reply(figures))
        rows["predicted"].setText(self._predicted(figures))
        self.suggestion_title.setVisible(suggestion is not None)
        self.suggestion.setVisible(suggestion is not None)
        self.suggestion.setText(self._suggestion(figures, suggestion) if suggestion else "")
        self._offer_action(ACTIONS.get(suggestion.remedy) if suggestion else None)

    def _offer_action(self, action: str | None) -> None:
        """Show the button that makes the suggested change, or hide it."""
        self._action = action
        labels = {
            GPU_SETTINGS: self.tr("Open GPU settings"),
            NEW_CHAT: self.tr("Start a new chat"),
            DISCOVER: self.tr("Find a smaller file"),
        }
        self.action_button.setVisible(action is not None)
        if action is not None:
            self.action_button.setText(labels[action])
            self.action_button.setAccessibleName(labels[action])

    def _on_action(self) -> None:
        if self._action is not None:
            self.action_requested.emit(self._action)

    def _clear(self) -> None:
        for label in self.rows.values():
            label.clear()
        self.suggestion.clear()
        self.suggestion_title.hide()
        self.suggestion.hide()
        self._offer_action(None)

    # --- the rows --------------------------------------------------------------------------------

    def _layers(self, figures: SlownessFigures) -> str:
        total = figures.layer_count
        on_cpu = figures.layers_on_cpu
        if figures.remote:
            away = sum(share.layers for share in figures.remote)
            return self.tr(
                "{here} of %n layers on this computer, the rest on other computers: {others}. "
                "Every word waits for them over the network.",
                "",
                total or 0,
            ).format(
                here=max(0, (total or 0) - away),
                others=", ".join(f"{s.endpoint} ({s.layers})" for s in figures.remote),
            )
        if figures.gpu_layers == 0:
            if total is None:
                return self.tr("All layers on the CPU")
            return self.tr("All %n layers on the CPU", "", total)
        # A driver's name and a file's name are theirs to choose: one bounded line each.
        gpu = printable(figures.gpu_name) if figures.gpu_name else self.tr("the GPU")
        if figures.all_on_gpu:
            if total is None:
                return self.tr("All layers on {gpu}").format(gpu=gpu)
            return self.tr("All %n layers on {gpu}", "", total).format(gpu=gpu)
        return self.tr(
            "{on_gpu} of %n layers on {gpu}, {on_cpu} on the CPU", "", total or 0
        ).format(  # fmt: skip
            on_gpu=figures.layers_on_gpu, gpu=gpu, on_cpu=on_cpu
        )

    def _others(self, figures: SlownessFigures) -> str:
        busy = figures.cpu_busy_share
        if busy is None:
            return self.tr("Not known.")
        return self.tr("They used {percent}\u00a0% of the processor just now.").format(
            percent=int(busy * 100)  # floored: 50 shown only from the rule's 0.5
        )

    def _memory(self, figures: SlownessFigures) -> str:
        # One sentence a line, here and below: translated sentences are never run together
        # (not every language separates them with a space).
        swap = figures.swap_used_bytes
        if swap is None:
            line = self.tr("Swap in use: not known.")
        elif swap == 0:
            line = self.tr("No swap in use.")
        else:
            line = self.tr("Swap in use: {swap}.").format(swap=format_bytes(swap))
        if figures.ram_available_bytes is not None:
            line += "\n" + self.tr("RAM free: {free}.").format(
                free=format_bytes(figures.ram_available_bytes)
            )
        if figures.gpu_backend is not None:
            if figures.gpu_shared_bytes is None:
                line += "\n" + self.tr(
                    "GPU memory borrowed from RAM: not known (this GPU's driver doesn't report it)."
                )
            else:
                line += "\n" + self.tr("GPU memory borrowed from RAM: {shared}.").format(
                    shared=format_bytes(figures.gpu_shared_bytes)
                )
            if figures.gpu_free_bytes is not None:
                line += "\n" + self.tr("GPU memory free: {free}.").format(
                    free=format_bytes(figures.gpu_free_bytes)
                )
        return line

    def _reply(self, figures: SlownessFigures) -> str:
        reply = figures.reply
        if reply is None:
            return self.tr("No reply yet.")
        written = reply.completion_tokens
        if written == 1:
            line = self.tr("First token after {first} (reading {prompt}\u00a0tokens), and no more.")
        else:
            line = self.tr(
                "First token after {first} (reading {prompt}\u00a0tokens), then {tps}\u00a0tokens/s "
                "for %n\u00a0tokens.",
                "",
                written,
            )
        line = line.format(
            first=format_seconds(reply.time_to_first_token or 0.0),
            prompt=f"{reply.prompt_tokens:,}",
            tps=f"{reply.tokens_per_second:.1f}",
        )
        first = figures.first_reply
        if first is not None and first != reply:
            line += "\n" + self.tr("The first reply of this load: {tps}\u00a0tokens/s.").format(
                tps=f"{first.tokens_per_second:.1f}"
            )
        return line

    def _predicted(self, figures: SlownessFigures) -> str:
        predicted = figures.predicted
        if figures.remote:
            line = self.tr(
                "Not predicted for a model split across computers: the other computers' "
                "speed and the network's are not known here."
            )
        elif predicted is None:
            line = self.tr("Not known: this machine's memory speed hasn't been measured.")
        elif predicted.basis is SpeedBasis.MEASURED:
            line = self.tr(
                "{low}–{high}\u00a0tokens/s at the start of a chat (from a speed test on this machine)."
            )
        else:
            line = self.tr(
                "{low}–{high}\u00a0tokens/s at the start of a chat (estimated from this machine's "
                "memory speed; Measure speed makes it exact)."
            )
        if predicted is not None:
            line = line.format(low=f"{predicted.low:.1f}", high=f"{predicted.high:.1f}")
        if figures.tested_speed is not None:
            line += "\n" + self.tr(
                "The speed test of this file here: {tps}\u00a0tokens/s at the start of a chat."
            ).format(tps=f"{figures.tested_speed:.1f}")
        return line

    # --- the suggestion --------------------------------------------------------------------------

    def _suggestion(self, figures: SlownessFigures, suggestion: Suggestion) -> str:
        """One plain sentence, with the figure that led to it."""
        reply = figures.reply
        tps = f"{reply.tokens_per_second:.1f}" if reply is not None else "?"
        remedy = suggestion.remedy
        if remedy is Remedy.CLOSE_PROGRAMS:
            return self.tr(
                "Close other programs, or choose a smaller file: {swap} of memory has been moved "
                "to the disk (swap) and only {free} of RAM is free, so the model waits for the "
                "disk."
            ).format(
                swap=format_bytes(figures.swap_used_bytes or 0),
                free=format_bytes(figures.ram_available_bytes or 0),
            )
        if remedy is Remedy.BUSY_CPU:
            return self.tr(
                "Close other programs that keep the processor busy: they used {percent}\u00a0% "
                "of it just now, and the model's {threads} threads wait for their turn."
            ).format(percent=int((figures.cpu_busy_share or 0) * 100), threads=figures.threads)
        if remedy is Remedy.FEWER_GPU_LAYERS:
            return self.tr(
                "Put fewer layers on the GPU (Settings, GPU offload): the GPU is borrowing "
                "{shared} of the computer's RAM, which is much slower than its own memory."
            ).format(shared=format_bytes(figures.gpu_shared_bytes or 0))
        if remedy is Remedy.MORE_GPU_LAYERS:
            on_cpu = figures.layers_on_cpu or 0
            if on_cpu == 1:
                text = self.tr(
                    "Put more layers on the GPU (Settings, GPU offload): one layer runs on the "
                    "slower CPU while the GPU has {free} free."
                )
            else:
                text = self.tr(
                    "Put more layers on the GPU (Settings, GPU offload): %n layers run on the "
                    "slower CPU while the GPU has {free} free.",
                    "",
                    on_cpu,
                )
            return text.format(free=format_bytes(figures.gpu_free_bytes or 0))
        if remedy is Remedy.NEW_CHAT:
            start = start_speed(figures)
            return self.tr(
                "Start a new chat: this one is {depth}\u00a0tokens long, and each new word looks "
                "back over all of it. Replies came at {start}\u00a0tokens/s at the start, and "
                "{now}\u00a0tokens/s now."
            ).format(
                depth=f"{figures.context_depth:,}",
                start=f"{start:.1f}" if start is not None else "?",
                now=tps,
            )
        if remedy is Remedy.SHORTER_PROMPT:
            assert reply is not None  # the rule needs a reply for this one
            return self.tr(
                "Send shorter messages, or start a new chat: reading the conversation took "
                "{first} before the first word, longer than writing the reply ({writing})."
            ).format(
                first=format_seconds(reply.time_to_first_token or 0.0),
                writing=format_seconds(reply.writing_seconds),
            )
        if remedy is Remedy.CLOSE_GPU_APPS:
            predicted = figures.predicted
            return self.tr(
                "Close other programs that use the GPU (games, videos, other AI apps): this "
                "reply came at {tps}\u00a0tokens/s, well below the {low}\u00a0tokens/s this file should "
                "reach on this GPU."
            ).format(tps=tps, low=f"{predicted.low:.0f}" if predicted else "?")
        smaller = suggestion.smaller
        if remedy is Remedy.SMALLER_FILE and smaller is not None and smaller.file_name:
            return self.tr(
                "Choose a smaller file: {file} ({quant}) is already on this computer. Nothing "
                "else holds this model back: at {tps}\u00a0tokens/s, the computer reads the whole "
                "file for every word, and a smaller file is read faster."
            ).format(file=printable(smaller.file_name), quant=smaller.quant, tps=tps)
        if remedy is Remedy.SMALLER_FILE and smaller is not None:
            return self.tr(
                "Choose a smaller file of this model, such as {quant} (Discover lists them). "
                "Nothing else holds it back: at {tps}\u00a0tokens/s, the computer reads the whole "
                "file for every word, and a smaller file is read faster."
            ).format(quant=smaller.quant, tps=tps)
        if remedy is Remedy.SMALLER_FILE:
            return self.tr(
                "Choose a smaller file of this model (Discover lists them). Nothing else holds "
                "it back: at {tps}\u00a0tokens/s, the computer reads the whole file for every "
                "word, and a smaller file is read faster."
            ).format(tps=tps)
        return self.tr(
            "Choose a smaller model: nothing else holds this one back, and at {tps}\u00a0tokens/s "
            "this file is already among its smallest worth using. A model with fewer "
            "parameters (a lower number of billions, B) reads faster."
        ).format(tps=tps)
