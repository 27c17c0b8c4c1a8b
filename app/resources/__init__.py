"""Files the app ships (catalog, icons). Found beside this module, in a source tree, an
installed wheel and the PyInstaller bundle alike (importlib.resources' MultiplexedPath in a
bundle doesn't take joinpath with several parts on Python 3.11)."""

from pathlib import Path

RESOURCES = Path(__file__).resolve().parent
ICONS = RESOURCES / "icons"
