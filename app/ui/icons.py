"""The app's icons: SVG files in app/resources/icons, crisp at any screen scale."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from app.resources import ICONS


@cache
def load_icon(name: str) -> QIcon:
    """The icon `name` (e.g. "chat"); an empty icon if the file is missing."""
    path = ICONS / f"{name}.svg"
    return QIcon(str(path)) if path.is_file() else QIcon()
