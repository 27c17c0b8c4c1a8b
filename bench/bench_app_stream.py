"""Tokens/s of a reply streamed through the app (engine worker thread -> GUI -> chat view) vs raw
llama-cpp-python, and the longest GUI event-loop stall while it streams.

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m bench.bench_app_stream [MODEL] [--runs 5]

The app side is the real `MainWindow`: the reply is generated on the engine thread, written to
the chat database as it streams, and shown in the real chat view on the GUI thread. The raw side is `Llama.create_completion(stream=True)`
on the same prompt tokens. Both generate the same greedy 128 tokens; the ratio counts tokens over
the whole reply (prompt included).

Each side runs in its own process, alternating: llama.cpp's OpenMP workers from two different
calling threads in one process slow each other down about 3x (measured here: raw 95 tok/s before
the engine thread ran, 30 after), which would make an in-process comparison meaningless. The app
itself only ever computes on its engine thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TOKENS = 128


def app_side(model: Path) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["QUANTDESK_HOME"] = tempfile.mkdtemp(prefix="quantdesk-bench-")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.core.paths import app_paths
    from app.ui.main_window import MainWindow
    from app.ui.session import Session
    from bench.bench_engine import PROMPT

    app = QApplication([])
    window = MainWindow(Session(app_paths().ensure()))
    window.show()
    loop = QEventLoop()
    window.model_loaded.connect(loop.quit)
    window.load_model(model)
    loop.exec()

    def one_reply() -> tuple[float, int]:
        window.chat.new_conversation()  # a fresh first turn, as on the raw side
        window.chat.settings_panel.fields["temperature"].setValue(0.0)
        window.chat.settings_panel.fields["max_tokens"].setValue(TOKENS)
        window.chat.input_box.setPlainText(PROMPT[0].content)
        longest = [0]
        clock = QElapsedTimer()
        ticker = QTimer(interval=5)
        ticker.timeout.connect(lambda: longest.__setitem__(0, max(longest[0], clock.restart())))
        done = QEventLoop()
        results: list = []
        window.reply_finished.connect(results.append)
        window.reply_finished.connect(done.quit)
        clock.start()
        ticker.start()
        started = time.perf_counter()
        window.chat.send_message()
        done.exec()
        elapsed = time.perf_counter() - started
        ticker.stop()
        window.reply_finished.disconnect()
        return results[0].completion_tokens / elapsed, longest[0]

    one_reply()  # warm-up, as the raw side
    tps, stall = one_reply()
    window.close()
    del app
    return {"tps": tps, "stall_ms": stall}


def raw_side(model: Path) -> dict[str, float]:
    from llama_cpp import Llama

    from app.core.chat.template import render_chat
    from app.core.engine.engine import default_threads
    from app.core.gguf.header import check_model_file
    from bench.bench_engine import PROMPT, run_raw

    threads = default_threads()
    template = check_model_file(model).chat_template or ""
    from app.core.engine.backends import ensure_backends

    ensure_backends()  # the distribution build has no CPU backend until it is loaded
    raw = Llama(
        model_path=str(model), n_ctx=4096, n_threads=threads, n_threads_batch=threads, verbose=False
    )
    prompt = render_chat(template, PROMPT)
    tokens = raw.tokenize(prompt.encode(), add_bos=False, special=True)
    run_raw(raw, tokens, TOKENS)  # warm-up
    tps = run_raw(raw, tokens, TOKENS)[0]
    raw.close()
    return {"tps": tps}


def run_side(side: str, model: Path) -> dict[str, float]:
    output = subprocess.run(
        [sys.executable, "-m", "bench.bench_app_stream", str(model), "--side", side],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--side", choices=["app", "raw"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.model is None:
        from tests.models import base_model

        args.model = base_model()
    if args.side:
        result = app_side(args.model) if args.side == "app" else raw_side(args.model)
        print(json.dumps(result), flush=True)
        os._exit(0)  # skip interpreter teardown of two native libraries: not what we measure

    app_runs, raw_runs = [], []
    for _ in range(args.runs):
        app_runs.append(run_side("app", args.model))
        raw_runs.append(run_side("raw", args.model))
    med = statistics.median
    app_tps = med(r["tps"] for r in app_runs)
    raw_tps = med(r["tps"] for r in raw_runs)
    stalls = [r["stall_ms"] for r in app_runs]
    print(f"model: {args.model.name}, tokens: {TOKENS}, runs: {args.runs} (one process per run)")
    print(
        f"tokens/s through the app {app_tps:6.1f}   raw {raw_tps:6.1f}   ratio {app_tps / raw_tps:.3f}"
    )
    print(f"longest GUI stall while streaming: {max(stalls)} ms (median run {med(stalls)} ms)")


if __name__ == "__main__":
    main()
