"""Time from launch to the main window painted, in a fresh process each run.

    .venv/bin/python -m bench.bench_startup [--runs 5] [--bundle dist/…/quantdesk]

Each run starts `python -m app` (the real entry point) offscreen with an empty QUANTDESK_HOME
(first run: the wizard opens too) and `QUANTDESK_STARTUP_PROBE=1`, which makes the app print
the seconds from process start to the first paint of the main window. For comparison, the same
runs of a bare PySide6 script that opens an empty QMainWindow (the plain alternative). With
--bundle, the installed app (installers/build-linux.sh's bundle) is timed in the same runs, against
running from the virtual environment (target: within 10 %).

An installed app starts from compiled bytecode (pip compiles a package as it installs it; the
bundle holds only bytecode), so the app's modules are compiled first, as `pip install` would:
without that, a checkout under PYTHONDONTWRITEBYTECODE compiles ~80 modules at every launch
(0.25 s here), which no person's start pays. One untimed launch of each then warms the disk
cache.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile

BARE = """
import os, time
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
class Probe(QObject):
    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Paint:
            print("painted", time.time() - float(os.environ["LAUNCHED_AT"]), flush=True)
            os._exit(0)
        return False
probe = Probe()
window.installEventFilter(probe)
window.show()
app.exec()
"""


def launch(command: list[str]) -> float:
    import time

    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "QUANTDESK_HOME": tempfile.mkdtemp(prefix="quantdesk-start-"),
        "QUANTDESK_STARTUP_PROBE": "1",
        "LAUNCHED_AT": repr(time.time()),
    }
    output = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60).stdout
    line = next(line for line in output.splitlines() if line.startswith("painted"))
    return float(line.split()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--bundle", help="the bundle's quantdesk executable, timed too")
    args = parser.parse_args()
    import compileall
    from pathlib import Path

    compileall.compile_dir(Path(__file__).resolve().parents[1] / "app", quiet=1)
    launch([sys.executable, "-m", "app"])
    launch([sys.executable, "-c", BARE])
    app_times, bare_times, bundle_times = [], [], []
    for _ in range(args.runs):
        app_times.append(launch([sys.executable, "-m", "app"]))
        bare_times.append(launch([sys.executable, "-c", BARE]))
        if args.bundle:
            bundle_times.append(launch([args.bundle]))
    med = statistics.median
    print(f"runs: {args.runs} (fresh process each)")
    print(f"launch to main window painted: quantdesk {med(app_times):.2f} s "
          f"(max {max(app_times):.2f}), bare QMainWindow {med(bare_times):.2f} s, "
          f"ratio {med(app_times) / med(bare_times):.2f}, "
          f"difference {med(app_times) - med(bare_times):+.2f} s")  # fmt: skip
    if bundle_times:
        print(f"installed bundle {med(bundle_times):.2f} s (max {max(bundle_times):.2f}) vs "
              f"virtual environment {med(app_times):.2f} s, "
              f"ratio {med(bundle_times) / med(app_times):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
