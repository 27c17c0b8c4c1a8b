from __future__ import annotations

import gc
import threading

from PySide6.QtCore import QObject

from app.ui.gc_guard import GuiThreadGarbageCollector


class _Node(QObject):
    destroyed_on: list[str] = []

    def __del__(self) -> None:
        _Node.destroyed_on.append(threading.current_thread().name)


def test_cycles_are_collected_on_the_gui_thread_only() -> None:
    collector = GuiThreadGarbageCollector()
    try:
        assert not gc.isenabled()
        node = _Node()
        node.self_reference = node  # a cycle: only the cyclic collector can free it
        del node
        # Another thread allocates heavily, as the engine does: no collection may run there.
        worker = threading.Thread(target=lambda: [[] for _ in range(100_000)], name="worker")
        worker.start()
        worker.join()
        collector.check()
        gc.collect()
        assert _Node.destroyed_on == ["MainThread"]
    finally:
        collector.stop()
    assert gc.isenabled()
