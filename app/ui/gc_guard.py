"""Python's cyclic garbage collector, run on the GUI thread only.

Why: a Qt object caught in a Python reference cycle is destroyed by whichever thread happens to
trigger the next collection. When that is the engine thread or a download thread, a widget's
destructor runs off the GUI thread and the process crashes (seen in the test suite: a segfault
"Garbage-collecting" on the engine thread, and "bool_dealloc" at exit). So automatic collection
is switched off, and a timer on the GUI thread collects instead, as often as Python would.
Reference counting still frees everything that is not in a cycle, at once, as usual.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

CHECK_EVERY_MS = 500


class GuiThreadGarbageCollector(QObject):
    """Disables automatic GC and collects on the GUI thread when Python would have."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_EVERY_MS)
        self._timer.timeout.connect(self.check)
        self._timer.start()

    def check(self) -> None:
        """Collect the generations whose allocation counts passed Python's thresholds."""
        counts = gc.get_count()
        for generation in (2, 1, 0):
            if counts[generation] > self._thresholds[generation]:
                gc.collect(generation)
                return

    def stop(self) -> None:
        self._timer.stop()
        gc.collect()
        gc.enable()
