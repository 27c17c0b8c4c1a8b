"""Qt user interface. Never does blocking work on the GUI thread: workers do."""

import sys
from types import ModuleType

import PySide6.QtCore  # noqa: F401 - installs the import check patched below


def _check_modules_for_pyside_from_their_bytes() -> None:
    """PySide6 reads the source of every module imported after it (`inspect.getsource`, for its
    opt-in `__feature__` switches, PYSIDE-2029) only to see whether the text names "PySide6":
    some 150 modules on the way to the first paint, about a tenth of the app's own import time
    (measured). The same question, answered from the file's bytes. Anything unexpected (no such
    hook in this binding, a module without a .py file) goes to PySide6's own check."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or original is None or getattr(original, "quantdesk", False):
        return

    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path.endswith(".py"):
            return bool(original(module))
        try:
            with open(path, "rb") as source:
                return b"PySide6" in source.read()
        except OSError:
            return bool(original(module))

    uses_pyside.quantdesk = True  # type: ignore[attr-defined]
    feature._mod_uses_pyside = uses_pyside  # type: ignore[attr-defined]


_check_modules_for_pyside_from_their_bytes()
