"""What the renderer child costs: a chat-template render in the child vs in this process, on the
real SmolLM2 template, and the one-time costs (renderer start, first load's child check).

    .venv/bin/python -m bench.bench_template [MODEL] [--renders 200]

Prints milliseconds per render both ways and their ratio. Renders alternate between the two
paths so that machine load hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from app.core.chat.template import Message, render_chat, render_in_process, stop_renderer
from app.core.engine.load_check import ensure_loadable
from app.core.gguf.header import check_model_file


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model", nargs="?", help="a GGUF (default: the SmolLM2 test model)")
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    if args.model:
        model = Path(args.model)
    else:
        from tests.models import base_model

        model = base_model()
    template = check_model_file(model).chat_template
    assert template, "the model has no chat template"
    messages = [
        Message("system", "You are a helpful assistant."),
        *[Message("user" if i % 2 == 0 else "assistant", f"Message {i} " * 20) for i in range(10)],
    ]

    stop_renderer()
    started = time.perf_counter()
    render_chat(template, messages)
    first = time.perf_counter() - started
    here: list[float] = []
    child: list[float] = []
    for _ in range(args.renders):
        for path, times in ((render_in_process, here), (render_chat, child)):
            started = time.perf_counter()
            path(template, messages)
            times.append(time.perf_counter() - started)
    here_ms = statistics.median(here) * 1000
    child_ms = statistics.median(child) * 1000
    print(f"renderer start + first render: {first * 1000:.0f} ms (once per app run)")
    print(f"render in process: {here_ms:.2f} ms (median of {args.renders})")
    print(f"render in child:   {child_ms:.2f} ms; overhead {child_ms - here_ms:.2f} ms")
    print(f"ratio child / in process: {child_ms / here_ms:.2f}")

    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        ensure_loadable(model, Path(folder) / "checks.json")
        check = time.perf_counter() - started
        started = time.perf_counter()
        ensure_loadable(model, Path(folder) / "checks.json")
        remembered = time.perf_counter() - started
    print(f"first load's child check: {check:.2f} s (once per file); remembered: "
          f"{remembered * 1000:.1f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
