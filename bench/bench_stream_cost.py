"""GUI-thread CPU time per streamed update, without a model: the chat view's own cost.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_stream_cost [--messages 160]

A `ChatView` holds a long conversation (the stall bench's Markdown with lists and code), then an
answer with paragraphs and growing code blocks is appended in small pieces, as the engine thread
sends them (~30 updates a second); after each piece the event loop runs (layout, painting).
What is timed is the GUI thread's CPU time (`time.thread_time`), which other processes on a busy
machine barely change, unlike wall-clock stalls (bench_chat_stall.py measures those, with the
real model).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=160)
    parser.add_argument("--piece", type=int, default=14, help="characters per update")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from app.core.chat.history import MessageState
    from app.ui.chat.view import ChatView, MessageWidget
    from bench.bench_chat_stall import ASSISTANT_TEXT

    view = ChatView()
    view.resize(1100, 700)
    view.show()
    for index in range(args.messages // 2):
        question = f"Question {index}: how do I total the third column of a CSV file? " * 2
        view.add_message(MessageWidget("user", question))
        view.add_message(MessageWidget("assistant", ASSISTANT_TEXT * 2))
    _settle(app)
    code = "\n".join(f"value_{i} = compute({i}) + total(path)  # step {i}" for i in range(25))
    answer = (ASSISTANT_TEXT + f"\n\n```python\n{code}\n```\n\n") * 4
    reply = view.add_message(MessageWidget("assistant", state=MessageState.STREAMING))
    costs = []
    for end in range(args.piece, len(answer) + args.piece, args.piece):
        started = time.thread_time()
        reply.append("", answer[end - args.piece : end])
        app.processEvents()
        app.processEvents()
        costs.append((time.thread_time() - started) * 1000)
    costs.sort()
    print(f"{args.messages} messages, {len(costs)} updates of {args.piece} characters "
          f"({len(answer):,} in all, {len(reply.code_blocks())} code blocks)")  # fmt: skip
    print(f"GUI thread CPU per update: median {statistics.median(costs):.1f} ms, "
          f"95th percentile {costs[int(len(costs) * 0.95)]:.1f} ms, max {costs[-1]:.1f} ms")  # fmt: skip
    os._exit(0)


def _settle(app: object) -> None:
    """Run the event loop until the code highlighter is ready (it loads on its own thread)."""
    from app.ui.chat import code

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        app.processEvents()  # type: ignore[attr-defined]
        if code.highlighting_ready():
            break
        time.sleep(0.01)
    for _ in range(10):
        app.processEvents()  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
