"""The session: the one writer of the preferences, the machine detected once and corrected,
one download per file. Real files, real detector (or a fake profile standing in its place)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app.core.config.preferences import load_preferences
from app.core.machine.hardware import CpuInfo, GpuInfo, HardwareProfile
from app.core.paths import app_paths
from app.ui.session import Session

GB = 10**9
MACHINE = HardwareProfile(
    os="linux",
    cpu=CpuInfo("x86_64", "Test CPU 8-Core", 8, ("avx", "avx2", "fma", "f16c")),
    ram_bytes=16 * GB,
    ram_available_bytes=12 * GB,
    gpus=(GpuInfo("NVIDIA GeForce RTX 3070", "cuda", 8 * GB, 7 * GB),),
)


@pytest.fixture
def session() -> Iterator[Session]:
    made = Session(app_paths().ensure(), hardware=MACHINE)
    yield made
    made.shutdown()


def test_preferences_change_saves_and_announces_once(qtbot: QtBot, session: Session) -> None:
    with qtbot.waitSignal(session.preferences_changed) as changed:
        session.update_preferences(default_context=8192, theme="dark")
    assert changed.args[0].default_context == 8192
    saved, _note = load_preferences(session.paths.config)
    assert saved == session.preferences
    assert saved.theme == "dark"


def test_moving_the_models_folder_tells_the_downloads(qtbot: QtBot, session: Session) -> None:
    target = app_paths().models.parent / "elsewhere"
    with qtbot.waitSignal(session.models_dir_changed) as moved:
        session.update_preferences(models_dir=str(target))
    assert moved.args[0] == target
    assert session.downloads.models_dir == target


def test_corrections_apply_to_the_detected_machine(qtbot: QtBot, session: Session) -> None:
    with qtbot.waitSignal(session.hardware_changed) as detected:
        session.detect_hardware()
    assert detected.args[0].gpus[0].vram_bytes == 8 * GB
    with qtbot.waitSignal(session.hardware_changed) as corrected:
        session.update_preferences(hardware_overrides={"vram_bytes": {"0": 6 * GB}})
    assert corrected.args[0].gpus[0].vram_bytes == 6 * GB
    assert session.hardware is not None and session.hardware.gpus[0].vram_bytes == 6 * GB
    assert session.detected_hardware is MACHINE  # the detection itself is kept as it was


def test_the_real_machine_is_detected_once_off_the_gui_thread(qtbot: QtBot) -> None:
    session = Session(app_paths().ensure())
    try:
        seen: list[HardwareProfile] = []
        session.hardware_changed.connect(seen.append)
        session.detect_hardware()
        session.detect_hardware()  # a second page asks while the first detection runs
        assert session.hardware is None  # nothing was detected on the GUI thread
        qtbot.waitUntil(lambda: bool(seen), timeout=60_000)
        qtbot.wait(200)
        assert len(seen) == 1
        assert seen[0].ram_bytes > 0
    finally:
        session.shutdown()
