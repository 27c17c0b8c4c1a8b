"""Render the app icon (SVG) to the PNG sizes desktops ask for: hicolor 16..512, .ico, .icns.

    python installers/render_icons.py OUT_DIR

Writes OUT_DIR/hicolor/NxN/apps/quantdesk.png for each size, OUT_DIR/hicolor/scalable/apps/
quantdesk.svg, OUT_DIR/quantdesk.ico (Windows) and OUT_DIR/quantdesk.iconset/ (macOS: build-macos.sh
turns it into an .icns with iconutil). Uses Qt's SVG renderer offscreen: no display needed.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SVG = Path(__file__).resolve().parents[1] / "app" / "resources" / "icons" / "quantdesk.svg"
HICOLOR_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICONSET_SIZES = (16, 32, 128, 256, 512)  # each also at @2x


def render_icons(out: Path) -> list[Path]:
    """Write every size; returns the files written."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        raise SystemExit(f"cannot read {SVG}")
    written = []
    images = {}
    every_size = set(HICOLOR_SIZES) | set(ICO_SIZES) | {2 * size for size in ICONSET_SIZES}
    for size in sorted(every_size):
        image = QImage(size, size, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        images[size] = image
    for size in HICOLOR_SIZES:
        target = out / "hicolor" / f"{size}x{size}" / "apps" / "quantdesk.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not images[size].save(str(target), "PNG"):
            raise SystemExit(f"cannot write {target}")
        written.append(target)
    scalable = out / "hicolor" / "scalable" / "apps" / "quantdesk.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(SVG, scalable)
    written.append(scalable)
    written.append(_write_ico(out / "quantdesk.ico", [images[size] for size in ICO_SIZES]))
    iconset = out / "quantdesk.iconset"
    iconset.mkdir(parents=True, exist_ok=True)
    for size in ICONSET_SIZES:
        for scale, suffix in ((1, ""), (2, "@2x")):
            target = iconset / f"icon_{size}x{size}{suffix}.png"
            images[size * scale].save(str(target), "PNG")
            written.append(target)
    return written


def _write_ico(target: Path, images: list) -> Path:
    """An .ico holding PNG-compressed images (Windows Vista and later read these)."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    blobs = []
    for image in images:
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        blobs.append((image.width(), bytes(data.data())))
    header = (
        (0).to_bytes(2, "little") + (1).to_bytes(2, "little") + len(blobs).to_bytes(2, "little")
    )
    offset = 6 + 16 * len(blobs)
    entries, payload = b"", b""
    for size, blob in blobs:
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += (
            bytes([side, side, 0, 0]) + (1).to_bytes(2, "little") + (32).to_bytes(2, "little")
        )
        entries += len(blob).to_bytes(4, "little") + (offset + len(payload)).to_bytes(4, "little")
        payload += blob
    target.write_bytes(header + entries + payload)
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    for path in render_icons(Path(sys.argv[1])):
        print(path)
