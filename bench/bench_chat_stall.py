"""The longest GUI-thread stall while a reply streams into a long conversation.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_chat_stall [MODEL] [--tokens 1000]

A conversation of about 20,000 tokens (160 messages of Markdown with code blocks and lists) is
stored in a fresh chat database; the real `MainWindow` opens it, then the person asks one more
question. The conversation no longer fits the context, so the app offers its choice, and the
bench clicks "Leave out the oldest messages", as a person would. While the reply streams (written
to the database and shown as Markdown), a 5 ms timer on the GUI thread measures the longest gap
between event-loop turns. For comparison, the same timer runs while the GUI is idle (the plain
alternative: nothing to draw), in the same process.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

ASSISTANT_TEXT = """Here is a **worked answer** with a list and some code.

1. First, read the input line by line.
2. Then split each line on commas and keep the *third* field.
3. Finally, sum the values and print the total.

```python
import csv

def total(path):
    with open(path) as handle:
        return sum(float(row[2]) for row in csv.reader(handle))
```

This runs in linear time; for very large files, stream the rows instead of loading them. """


def fill_history(database: Path, messages: int) -> int:
    """A long conversation; returns its size in characters (about 4 per token)."""
    from app.core.chat.history import ChatStore

    characters = 0
    with ChatStore(database) as store:
        conversation = store.create_conversation("A long conversation")
        for index in range(messages // 2):
            question = f"Question {index}: how do I total the third column of a CSV file? " * 2
            answer = ASSISTANT_TEXT * 2
            store.add_message(conversation.id, "user", question)
            store.add_message(conversation.id, "assistant", answer)
            characters += len(question) + len(answer)
    return characters


# Asks for a long answer with code, so the stream exercises the code blocks' highlighting too.
PROMPT = (
    "Write a long Python tutorial about reading CSV files: explain each step, and give many "
    "complete code examples, each in its own ```python block."
)


class StallMeter:
    def __init__(self) -> None:
        from PySide6.QtCore import QElapsedTimer, QTimer

        self.longest_ms = 0
        self.longest_at = 0.0
        self._clock = QElapsedTimer()
        self._timer = QTimer(interval=5)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms = 0
        self._clock.start()
        self._timer.start()

    def stop(self) -> int:
        self._timer.stop()
        return self.longest_ms

    def _tick(self) -> None:
        gap = self._clock.restart()
        if gap > self.longest_ms:
            self.longest_ms, self.longest_at = gap, time.perf_counter()


def start_watchdog() -> None:
    """Debugging aid: print the GUI thread's Python stack whenever it is late by 60 ms."""
    import sys
    import threading
    import traceback

    from PySide6.QtCore import QTimer

    gui = threading.get_ident()
    beat = [time.perf_counter()]
    timer = QTimer(interval=5)
    timer.timeout.connect(lambda: beat.__setitem__(0, time.perf_counter()))
    timer.start()
    start_watchdog.timer = timer  # type: ignore[attr-defined]

    def watch() -> None:
        while True:
            time.sleep(0.02)
            late = time.perf_counter() - beat[0]
            if late > 0.06:
                frame = sys._current_frames().get(gui)
                print(
                    f"GUI late {late * 1000:.0f} ms:", "".join(traceback.format_stack(frame)[-6:])
                )
                time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()


def gc_pause_log() -> list[float]:
    """Milliseconds of each cyclic garbage collection from now on."""
    import gc

    pauses: list[float] = []
    started = [0.0]

    def record(phase: str, _info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((time.perf_counter() - started[0]) * 1000)

    gc.callbacks.append(record)
    return pauses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--tokens", type=int, default=1000)
    # Room for the reply: the app keeps min(max tokens, context / 8) free after the prompt, so
    # a 1,000-token reply needs 8,192 (at 4,096 the reply is cut at ~500 tokens).
    parser.add_argument("--context", type=int, default=8192)
    parser.add_argument("--messages", type=int, default=160)
    parser.add_argument("--prompt", default=PROMPT, help="the question streamed into the chat")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-bench-")
    if args.model is None:
        from tests.models import base_model

        args.model = base_model()

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.paths import app_paths
    from app.ui.main_window import MainWindow
    from app.ui.session import CHAT_DATABASE, Session

    paths = app_paths().ensure()
    characters = fill_history(paths.data / CHAT_DATABASE, args.messages)
    app = QApplication([])
    started = time.perf_counter()
    window = MainWindow(Session(paths))
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    open_seconds = time.perf_counter() - started

    def wait_for(signal, timeout_ms: int = 900_000) -> list:  # noqa: ANN001
        loop, got = QEventLoop(), []
        signal.connect(lambda *a: (got.append(a), loop.quit()))
        QTimer.singleShot(timeout_ms, loop.quit)
        loop.exec()
        return got

    window.chat.settings_panel.context_length.setValue(args.context)
    window.load_model(args.model, context_length=args.context)
    wait_for(window.model_loaded)
    panel = window.chat.settings_panel
    panel.fields["temperature"].setValue(0.8)
    panel.fields["max_tokens"].setValue(args.tokens)

    gc_pauses = gc_pause_log()
    meter = StallMeter()
    meter.start()
    idle_until = time.perf_counter() + 2
    while time.perf_counter() < idle_until:
        app.processEvents()
        time.sleep(0.001)
    idle_stall = meter.stop()

    window.chat.input_box.setPlainText(args.prompt)
    window.chat.send_message()
    wait_for(window.reply_failed)  # too long: the app offers its choice
    first_text: list[float] = []
    window.session.engine.worker.streamed.connect(
        lambda _u: first_text or first_text.append(time.perf_counter())
    )
    clicked = time.perf_counter()
    window.chat.drop_oldest_button.click()
    click_ms = (time.perf_counter() - clicked) * 1000
    # The click itself (planning the request) is measured apart from the stream.
    wait_for(window.session.engine.worker.streamed)
    meter.start()
    if os.environ.get("STALL_WATCHDOG"):
        start_watchdog()
    streamed = time.perf_counter()
    (finished,) = wait_for(window.reply_finished)
    ended = time.perf_counter()
    stall = meter.stop()
    print(f"(longest gap ended {meter.longest_at - streamed:.2f} s after the first text; "
          f"the reply ended at {ended - streamed:.2f} s)")  # fmt: skip
    stats = finished[0]
    reply = window.chat.chat_view.messages()[-1]
    print(f"reply text: {len(reply.content):,} characters, {len(reply.code_blocks())} code blocks, "
          f"{len(reply.content.splitlines())} lines")  # fmt: skip
    print(f"conversation: {args.messages} messages, {characters:,} characters "
          f"(~{characters // 4:,} tokens), opened in {open_seconds:.2f} s")  # fmt: skip
    print(f"reply: {stats.completion_tokens} tokens at {stats.tokens_per_second:.1f} tokens/s, "
          f"{time.perf_counter() - streamed:.1f} s with prompt processing")  # fmt: skip
    print(
        f"longest GUI stall while streaming: {stall} ms   (idle GUI, same timer: {idle_stall} ms)"
    )
    print(f"longest garbage collection while streaming: {max(gc_pauses, default=0):.0f} ms")
    print(f"handling the click: {click_ms:.0f} ms; prompt processing until the first text: "
          f"{first_text[0] - clicked:.1f} s")  # fmt: skip
    window.close()
    os._exit(0)  # skip interpreter teardown of two native libraries: not what we measure


if __name__ == "__main__":
    main()
